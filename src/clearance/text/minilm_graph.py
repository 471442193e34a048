"""Rewrite the exported MiniLM graph's attention and GELU into ONNX Runtime's fused operators.

The wheel's graph is a PyTorch export. Each layer's attention is ~30 small nodes around two
matrix products: head split and merge (reshapes, transposes, shape arithmetic), the attention
mask turned into additive biases, a guard that turns NaN probabilities into 0, and the
1/sqrt(d) scale applied to queries and keys separately. GELU is five element-wise nodes. ONNX
Runtime's own fusers do not recognise this export (the NaN guard breaks its attention pattern),
so every node ran on its own, and for a prompt of ~15 tokens the time between the matrix
products was a large part of the whole (nodes of 20 x 384 values cost about as much to dispatch
as to compute).

Each attention becomes one ``com.microsoft.MultiHeadAttention`` over the projected queries,
keys and values, and each GELU one ``com.microsoft.Gelu``. The function is the same except
for the mask: ``TextEmbedder`` runs every text alone, unpadded, so every token attends to every
other and the mask (all ones) is dropped. The ``attention_mask`` input stays declared, unused.
"""

from __future__ import annotations

import math

import onnx
from onnx import helper, numpy_helper

NUM_HEADS = 12
LAYERS = 6


class UnexpectedGraph(ValueError):
    """The graph is not the export this module knows (another wheel version): nothing is rewritten."""


def fuse(model: onnx.ModelProto) -> list[str]:
    """Fuse ``model`` in place; returns the names of the attention output projections (the MatMuls
    that read ``MultiHeadAttention``), which the quantisation keeps in float."""
    graph = model.graph
    constants = {w.name: numpy_helper.to_array(w) for w in graph.initializer}
    producer = {out: node for node in graph.node for out in node.output}
    consumers: dict[str, list[onnx.NodeProto]] = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    attentions = [_attention(node, producer, constants) for node in graph.node
                  if _reads_merged_heads(node, producer, constants)]
    gelus = [_gelu(node, producer, consumers, constants) for node in graph.node if node.op_type == "Erf"]
    if len(attentions) != LAYERS or len(gelus) != LAYERS:
        raise UnexpectedGraph(f"found {len(attentions)} attention and {len(gelus)} GELU patterns, expected {LAYERS}")
    fused = {node.output[0]: node for node in attentions + gelus}
    nodes = [node for node in graph.node if node.output[0] not in fused] + list(fused.values())
    _replace_nodes(graph, _topological(_live(nodes, graph), graph))
    if not any(opset.domain == "com.microsoft" for opset in model.opset_import):
        model.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    return [node.name for node in graph.node if node.op_type == "MatMul" and node.input[0] in fused
            and fused[node.input[0]].op_type == "MultiHeadAttention"]


def _reads_merged_heads(node: onnx.NodeProto, producer: dict, constants: dict) -> bool:
    """An attention output projection: a MatMul by a weight, fed by the Reshape merging the heads."""
    source = producer.get(node.input[0]) if node.input else None
    return (node.op_type == "MatMul" and node.input[1] in constants and source is not None
            and source.op_type == "Reshape" and producer[source.input[0]].op_type == "Transpose")


def _attention(projection: onnx.NodeProto, producer: dict, constants: dict) -> onnx.NodeProto:
    """One MultiHeadAttention from the projected queries, keys and values (the bias Adds) to the
    merged heads that ``projection`` reads, after checking the scale is the default 1/sqrt(d)."""
    merged = producer[projection.input[0]]
    context = _back_to(merged.input[0], "MatMul", producer, constants)
    scores = _back_to(context.input[0], "MatMul", producer, constants)
    query, key, value = (_back_to(name, "Add", producer, constants)
                         for name in (scores.input[0], scores.input[1], context.input[1]))
    scales = [constants[i] for name in scores.input for i in _path_inputs(name, producer, constants)]
    head_size = constants[query.input[1]].shape[-1] // NUM_HEADS
    if len(scales) != 2 or not math.isclose(float(scales[0]) * float(scales[1]), 1 / math.sqrt(head_size),
                                            rel_tol=1e-5):
        raise UnexpectedGraph(f"attention before {projection.name} is not scaled by 1/sqrt({head_size})")
    return helper.make_node("MultiHeadAttention", [query.output[0], key.output[0], value.output[0]],
                            [merged.output[0]], name=f"attention_{projection.name}", domain="com.microsoft",
                            num_heads=NUM_HEADS)


def _gelu(erf: onnx.NodeProto, producer: dict, consumers: dict, constants: dict) -> onnx.NodeProto:
    """x * 0.5 * (1 + erf(x / sqrt 2)) as one Gelu(x), after checking the constants."""
    divide = producer[erf.input[0]]
    plus_one = _only(consumers.get(erf.output[0], []))
    half = _only(consumers.get(plus_one.output[0], []))
    times_x = _only(consumers.get(half.output[0], []))
    x = divide.input[0]
    expected = [(divide, "Div", math.sqrt(2)), (plus_one, "Add", 1.0), (half, "Mul", 0.5)]
    for node, op, value in expected:
        constant = next((constants[i] for i in node.input if i in constants), None)
        if node.op_type != op or constant is None or not math.isclose(float(constant), value, rel_tol=1e-6):
            raise UnexpectedGraph(f"GELU at {erf.name}: {node.name} is not {op} by {value}")
    if times_x.op_type != "Mul" or x not in times_x.input:
        raise UnexpectedGraph(f"GELU at {erf.name} does not end in a product with its input")
    return helper.make_node("Gelu", [x], [times_x.output[0]], name=f"gelu_{erf.name}", domain="com.microsoft")


def _back_to(name: str, op_type: str, producer: dict, constants: dict) -> onnx.NodeProto:
    """The nearest ``op_type`` node up the data path of ``name`` (through reshapes, transposes,
    scales, the softmax and its guards)."""
    node = producer[name]
    while node.op_type != op_type:
        node = producer[_data_input(node, constants)]
    return node


def _path_inputs(name: str, producer: dict, constants: dict) -> list[str]:
    """The constant operands of the Mul nodes on the way from ``name`` up to its bias Add."""
    found, node = [], producer[name]
    while node.op_type != "Add":
        if node.op_type == "Mul":
            found += [i for i in node.input if i in constants]
        node = producer[_data_input(node, constants)]
    return found


def _data_input(node: onnx.NodeProto, constants: dict) -> str:
    if node.op_type == "Where":  # where(isnan(p), 0, p)
        return node.input[2]
    return next(i for i in node.input if i not in constants)


def _only(nodes: list[onnx.NodeProto]) -> onnx.NodeProto:
    if len(nodes) != 1:
        raise UnexpectedGraph(f"expected one consumer, found {len(nodes)}")
    return nodes[0]


def _live(nodes: list[onnx.NodeProto], graph: onnx.GraphProto) -> list[onnx.NodeProto]:
    """``nodes`` without those whose outputs nothing reads any more (the replaced subgraphs)."""
    outputs = {o.name for o in graph.output}
    while True:
        read = {i for node in nodes for i in node.input} | outputs
        kept = [node for node in nodes if any(o in read for o in node.output)]
        if len(kept) == len(nodes):
            return kept
        nodes = kept


def _topological(nodes: list[onnx.NodeProto], graph: onnx.GraphProto) -> list[onnx.NodeProto]:
    ready = {i.name for i in graph.input} | {w.name for w in graph.initializer} | {""}
    ordered: list[onnx.NodeProto] = []
    pending = nodes
    while pending:
        waiting = []
        for node in pending:
            if all(i in ready for i in node.input):
                ordered.append(node)
                ready.update(node.output)
            else:
                waiting.append(node)
        if len(waiting) == len(pending):
            raise UnexpectedGraph("the rewritten graph has a cycle")
        pending = waiting
    return ordered


def _replace_nodes(graph: onnx.GraphProto, nodes: list[onnx.NodeProto]) -> None:
    """Put ``nodes`` in the graph and drop the constants only the removed nodes used."""
    read = {i for node in nodes for i in node.input}
    constants = [w for w in graph.initializer if w.name in read]
    del graph.node[:]
    graph.node.extend(nodes)
    del graph.initializer[:]
    graph.initializer.extend(constants)
