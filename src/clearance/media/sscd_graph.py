"""SSCD's input normalisation, rewritten so ONNX Runtime broadcasts it over whole planes.

The exported graph casts the uint8 NHWC image to float, subtracts the per-channel mean and
divides by the per-channel deviation with constants of shape (3,), and only then transposes to
NCHW. ONNX Runtime's CPU kernels broadcast a (3,) operand along the last axis a few elements
at a time: that Sub and Div took ~1.5 ms of a 4.7 ms pass on one 288 px image (ORT 1.32).
Transposing first (the uint8 image, a quarter of the bytes) and broadcasting (1, 3, 1, 1)
constants over 288 x 288 planes gives bit-identical descriptors (element-wise arithmetic
commutes with a transpose) in ~3.3 ms. Identical output is why nothing that depends on the
descriptors (cached reference fingerprints, thresholds, the model version) changes with it.
The rewritten file is built once per machine into the model cache (``clearance.model_cache``).
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import onnx

PATTERN = ("Cast", "Sub", "Div", "Transpose")
"""The export's first nodes: image -> float -> minus mean -> over deviation -> NCHW."""
RECIPE = "planar-1"
"""Bump when the rewrite changes: it names the rewritten file in the model cache."""

log = logging.getLogger(__name__)


def cached_name(source: Path) -> str:
    """The rewritten model's file name in the model cache (``clearance.model_cache``)."""
    return f"{source.stem}-{source.stat().st_size}-{RECIPE}.onnx"


def write_planar(source: Path, target: Path) -> None:
    """Write the model at ``source`` with its normalisation rewritten to ``target``; a graph that is
    not the known export is copied as it is: an unknown version still runs, only slower. ``onnx``
    is imported here, not above: its import alone takes ~0.25 s, and only a build needs it."""
    import onnx

    model = onnx.load(str(source))
    if not normalise_planes(model):
        log.warning("SSCD graph %s does not start with %s; running it as exported", source, "/".join(PATTERN))
        shutil.copyfile(source, target)
        return
    onnx.save(model, str(target))


def normalise_planes(model: onnx.ModelProto) -> bool:
    """Rewrite ``model`` in place (True), or leave it untouched when it does not start with
    ``PATTERN`` over one uint8 input, (3,) constants and an NHWC-to-NCHW transpose (False)."""
    import onnx
    from onnx import helper, numpy_helper

    graph = model.graph
    head = list(graph.node[: len(PATTERN)])
    constants = {w.name: w for w in graph.initializer}
    if tuple(node.op_type for node in head) != PATTERN:
        return False
    cast, sub, div, transpose = head
    chained = (sub.input[0] == cast.output[0] and div.input[0] == sub.output[0]
               and transpose.input[0] == div.output[0])
    mean, deviation = constants.get(sub.input[1]), constants.get(div.input[1])
    if not (chained and mean is not None and deviation is not None and list(mean.dims) == [3]
            and list(deviation.dims) == [3] and _attributes(transpose).get("perm") == [0, 3, 1, 2]
            and _attributes(cast).get("to") == onnx.TensorProto.FLOAT):
        return False
    for constant in (mean, deviation):
        constant.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(constant).reshape(1, 3, 1, 1), constant.name))
    planar = f"{cast.input[0]}_nchw"
    rewritten = [
        helper.make_node("Transpose", [cast.input[0]], [planar], perm=[0, 3, 1, 2]),
        helper.make_node("Cast", [planar], [cast.output[0]], to=onnx.TensorProto.FLOAT),
        helper.make_node("Sub", list(sub.input), list(sub.output)),
        helper.make_node("Div", list(div.input), list(transpose.output)),
    ]
    del graph.node[: len(PATTERN)]
    for node in reversed(rewritten):
        graph.node.insert(0, node)
    return True


def _attributes(node: onnx.NodeProto) -> dict:
    from onnx import helper

    return {attribute.name: helper.get_attribute_value(attribute) for attribute in node.attribute}
