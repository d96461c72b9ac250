#!/usr/bin/env python3
"""Export the 16 kHz branch of Silero VAD v5 (ONNX) into a compact binary blob.

Usage:
    python tools/export_silero.py path/to/silero_vad.onnx src/silero_vad_v5_16k.bin

The ONNX graph (silero-vad 5.1.2 wheel, `silero_vad/data/silero_vad.onnx`) has a top-level
`If (sr == 16000)`; its `then_branch` holds the 16 kHz weights as `Constant` nodes. We take
that branch only and write the tensors, unchanged (same values, same PyTorch layout), in the
fixed order below.

Blob layout (all integers u32 little-endian, all data f32 little-endian):
    magic      b"SVAD"
    version    1
    count      number of tensors (= len(TENSORS))
    per tensor, in order:
        name_len, name (UTF-8, no terminator)
        ndim, dims[ndim]
        data (prod(dims) f32 values, C order)
"""
import hashlib
import struct
import sys

import numpy as np
import onnx
from onnx import numpy_helper

# (name inside the 16 kHz branch, expected shape). Names are the PyTorch parameter names.
TENSORS = [
    ("stft.forward_basis_buffer", (258, 1, 256)),  # rows 0..129 real, 129..258 imag
    ("encoder.0.reparam_conv.weight", (128, 129, 3)),
    ("encoder.0.reparam_conv.bias", (128,)),
    ("encoder.1.reparam_conv.weight", (64, 128, 3)),
    ("encoder.1.reparam_conv.bias", (64,)),
    ("encoder.2.reparam_conv.weight", (64, 64, 3)),
    ("encoder.2.reparam_conv.bias", (64,)),
    ("encoder.3.reparam_conv.weight", (128, 64, 3)),
    ("encoder.3.reparam_conv.bias", (128,)),
    ("decoder.rnn.weight_ih", (512, 128)),  # PyTorch gate order i, f, g, o
    ("decoder.rnn.weight_hh", (512, 128)),
    ("decoder.rnn.bias_ih", (512,)),
    ("decoder.rnn.bias_hh", (512,)),
    ("decoder.decoder.2.weight", (1, 128, 1)),
    ("decoder.decoder.2.bias", (1,)),
]
PREFIX = "If_0_then_branch__Inline_0__"
MAGIC = b"SVAD"
VERSION = 1


def find_16k_branch(model):
    for node in model.graph.node:
        if node.op_type == "If":
            # The condition is Equal(sr, 16000): then_branch is the 16 kHz model.
            for attr in node.attribute:
                if attr.name == "then_branch":
                    return attr.g
    raise SystemExit("no top-level If node found")


def main():
    src, dst = sys.argv[1], sys.argv[2]
    raw = open(src, "rb").read()
    print(f"model {src}: sha256 {hashlib.sha256(raw).hexdigest()}")
    model = onnx.load_from_string(raw)
    branch = find_16k_branch(model)
    consts = {}
    for node in branch.node:
        if node.op_type == "Constant":
            for attr in node.attribute:
                if attr.name == "value":
                    consts[node.output[0]] = numpy_helper.to_array(attr.t)
    out = bytearray(MAGIC)
    out += struct.pack("<II", VERSION, len(TENSORS))
    for name, shape in TENSORS:
        arr = consts[PREFIX + name]
        assert arr.dtype == np.float32, (name, arr.dtype)
        assert arr.shape == shape, (name, arr.shape, shape)
        nb = name.encode()
        out += struct.pack("<I", len(nb)) + nb
        out += struct.pack("<I", arr.ndim) + struct.pack(f"<{arr.ndim}I", *arr.shape)
        out += np.ascontiguousarray(arr).astype("<f4").tobytes()
    open(dst, "wb").write(out)
    print(f"wrote {dst}: {len(out)} bytes, sha256 {hashlib.sha256(out).hexdigest()}")


if __name__ == "__main__":
    main()
