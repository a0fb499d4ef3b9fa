"""Piper's ONNX graph with its random noise turned into inputs, so the same words give the same audio.

A Piper voice (VITS) draws Gaussian noise twice per sentence with ``RandomNormalLike``:
for the stochastic duration predictor and for the latent the decoder turns into sound.
onnxruntime seeds those nodes once per session, so a sentence's audio depends on what
the session spoke before it and on the process. Here each such node is replaced by a
slice of a graph input (``noise_0``, ``noise_1``, ...), reshaped to the shape the node
would have drawn; the caller fills the inputs from a seed derived from the sentence
(:func:`seeded_noise`), so a sentence sounds the same in any process and in any order.

The noise is drawn from the seed in order, so a longer pool starts with the same values
as a shorter one: how much is drawn never changes the audio. The element count each
noise needs is a graph output too (``noise_0_size``, ...): the frame count is decided
inside the graph (by the duration predictor), so a pool that was too short is known
after the run, and the sentence is run again with a longer one.

Only the fields this rewrite reads or writes are declared in the schema below (field
numbers from ONNX's public ``onnx.proto``); everything else in the model passes through
as protobuf's unknown fields, untouched. The ``onnx`` package is not needed.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass
from typing import Any

from videojob.renderer.errors import NarrationError

RANDOM_OP = "RandomNormalLike"
MIN_OPSET = 13  # Slice and Reshape take their bounds and shape as inputs
FLOAT, INT64 = 1, 7  # ONNX TensorProto data types
PREFIX = "/videojob/noise"

# (message, [(field, number, type, repeated, message type)]) of the ONNX schema, only what is used here.
_SCHEMA: list[tuple[str, list[tuple[str, int, str, bool, str | None]]]] = [
    ("Model", [("opset_import", 8, "message", True, "OperatorSet"), ("graph", 7, "message", False, "Graph")]),
    ("OperatorSet", [("domain", 1, "string", False, None), ("version", 2, "int64", False, None)]),
    (
        "Graph",
        [
            ("node", 1, "message", True, "Node"),
            ("initializer", 5, "message", True, "Tensor"),
            ("input", 11, "message", True, "ValueInfo"),
            ("output", 12, "message", True, "ValueInfo"),
        ],
    ),
    (
        "Node",
        [
            ("input", 1, "string", True, None),
            ("output", 2, "string", True, None),
            ("name", 3, "string", False, None),
            ("op_type", 4, "string", False, None),
            ("attribute", 5, "message", True, "Attribute"),
            ("domain", 7, "string", False, None),
        ],
    ),
    ("Attribute", [("name", 1, "string", False, None), ("f", 2, "float", False, None)]),
    (
        "Tensor",
        [
            ("dims", 1, "int64", True, None),
            ("data_type", 2, "int32", False, None),
            ("name", 8, "string", False, None),
            ("raw_data", 9, "bytes", False, None),
        ],
    ),
    ("ValueInfo", [("name", 1, "string", False, None), ("type", 2, "message", False, "Type")]),
    ("Type", [("tensor_type", 1, "message", False, "TensorType")]),
    ("TensorType", [("elem_type", 1, "int32", False, None), ("shape", 2, "message", False, "Shape")]),
    ("Shape", [("dim", 1, "message", True, "Dimension")]),
    ("Dimension", [("dim_value", 1, "int64", False, None), ("dim_param", 2, "string", False, None)]),
]


def _model_class() -> Any:
    """A protobuf message class for the parts of ONNX's ModelProto declared in _SCHEMA."""
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory  # type: ignore[import-untyped]

    field = descriptor_pb2.FieldDescriptorProto
    types = {"message": field.TYPE_MESSAGE, "string": field.TYPE_STRING, "bytes": field.TYPE_BYTES}
    types |= {"int64": field.TYPE_INT64, "int32": field.TYPE_INT32, "float": field.TYPE_FLOAT}
    schema = descriptor_pb2.FileDescriptorProto(name="videojob_onnx_part.proto", package="videojob_onnx_part")
    schema.syntax = "proto2"  # keeps fields it does not declare as unknown fields, serialised back unchanged
    for name, fields in _SCHEMA:
        message = schema.message_type.add(name=name)
        for field_name, number, kind, repeated, message_type in fields:
            declared = message.field.add(name=field_name, number=number, type=types[kind])
            declared.label = field.LABEL_REPEATED if repeated else field.LABEL_OPTIONAL
            if message_type:
                declared.type_name = f".videojob_onnx_part.{message_type}"
    pool = descriptor_pool.DescriptorPool()
    pool.Add(schema)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("videojob_onnx_part.Model"))


@dataclass(frozen=True)
class Noise:
    """One noise input: its name, the output that tells how many values it needed, and its distribution."""

    input: str
    size_output: str
    mean: float
    scale: float


@dataclass(frozen=True)
class SeededGraph:
    """The rewritten model (bytes for onnxruntime) and the noise inputs it takes, in graph order."""

    model: bytes
    noises: tuple[Noise, ...]


def with_noise_inputs(model: bytes) -> SeededGraph:
    """``model`` with every RandomNormalLike node fed from a new input; a model without one is refused."""
    parsed = _model_class()()
    try:
        parsed.ParseFromString(model)
    except Exception as error:  # protobuf's DecodeError and friends
        raise NarrationError(f"the voice model is not a readable ONNX file: {error}") from error
    opset = max((op.version for op in parsed.opset_import if op.domain in ("", "ai.onnx")), default=0)
    if opset < MIN_OPSET:
        raise NarrationError(f"the voice model uses ONNX opset {opset}; at least {MIN_OPSET} is needed")
    graph = parsed.graph
    _constant(graph, f"{PREFIX}/zero", [0])
    _constant(graph, f"{PREFIX}/one_dimension", [1])
    nodes: list[Any] = []
    noises: list[Noise] = []
    for node in graph.node:
        if node.op_type != RANDOM_OP or node.domain not in ("", "ai.onnx"):
            nodes.append(node)
            continue
        noise = _noise(len(noises), node)
        nodes += _replacement(graph, noise, node)
        noises.append(noise)
    if not noises:
        raise NarrationError(f"the voice model has no {RANDOM_OP} node: not a Piper VITS voice")
    del graph.node[:]
    graph.node.extend(nodes)
    return SeededGraph(parsed.SerializeToString(), tuple(noises))


def _noise(number: int, node: Any) -> Noise:
    attributes = {attribute.name: attribute.f for attribute in node.attribute}
    name = f"noise_{number}"
    return Noise(name, f"{name}_size", attributes.get("mean", 0.0), attributes.get("scale", 1.0))


def _replacement(graph: Any, noise: Noise, random: Any) -> list[Any]:
    """Nodes that give ``random``'s output as the first values of ``noise.input``, in the shape it would draw."""
    base, like, output = f"{PREFIX}/{noise.input}", random.input[0], random.output[0]
    _declare(graph.input, noise.input, FLOAT, [f"{noise.input}_length"])
    _declare(graph.output, noise.size_output, INT64, [1])
    steps = [
        ("Shape", [like], [f"{base}/shape"]),
        ("Size", [like], [f"{base}/count"]),
        ("Reshape", [f"{base}/count", f"{PREFIX}/one_dimension"], [noise.size_output]),
        ("Slice", [noise.input, f"{PREFIX}/zero", noise.size_output, f"{PREFIX}/zero"], [f"{base}/values"]),
        ("Reshape", [f"{base}/values", f"{base}/shape"], [output]),
    ]
    made = []
    for op_type, inputs, outputs in steps:
        node = type(random)(op_type=op_type, name=f"{base}/{outputs[0].rsplit('/', 1)[-1]}")
        node.input.extend(inputs)
        node.output.extend(outputs)
        made.append(node)
    return made


def _constant(graph: Any, name: str, values: list[int]) -> None:
    tensor = graph.initializer.add(name=name, data_type=INT64)
    tensor.dims.append(len(values))
    tensor.raw_data = struct.pack(f"<{len(values)}q", *values)


def _declare(values: Any, name: str, element_type: int, dims: list[int | str]) -> None:
    value = values.add(name=name)
    tensor_type = value.type.tensor_type
    tensor_type.elem_type = element_type
    for dim in dims:
        if isinstance(dim, int):
            tensor_type.shape.dim.add(dim_value=dim)
        else:
            tensor_type.shape.dim.add(dim_param=dim)


def sentence_seed(ids: list[int], scales: tuple[float, ...]) -> int:
    """A seed from what the model is given for one sentence: the same sentence, the same noise."""
    digest = hashlib.sha256(struct.pack(f"<{len(ids)}q{len(scales)}f", *ids, *scales)).digest()
    return int.from_bytes(digest[:16], "little")


def seeded_noise(seed: int, noise: Noise, number: int, count: int) -> Any:
    """``count`` values of ``noise`` (the ``number``-th input) from ``seed``: always the same prefix."""
    import numpy as np

    generator = np.random.default_rng([seed, number])
    values = generator.standard_normal(count, dtype=np.float32)
    if noise.scale != 1.0 or noise.mean != 0.0:
        values = values * np.float32(noise.scale) + np.float32(noise.mean)
    return values
