"""Writes ggml_blocks.gguf (one [2, 256] tensor per block type, quantized by ggml itself) and
ggml_blocks.json (the float values each tensor was made from, and ggml's dequantization of each),
the reference for Coppice's GGUF block readers and its Q4_1 quantizer. ggml is the library inside
llama-cpp-python (in a virtual environment outside the repo), called through ctypes:
    /opt/llamacpp-venv/bin/python Tests/CoppiceFormatsTests/Fixtures/make_ggml_blocks_fixture.py
"""
import ctypes
import glob
import json
import os
import struct

import llama_cpp
import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
library = glob.glob(os.path.join(os.path.dirname(llama_cpp.__file__), "lib", "libggml-base.so*"))[0]
ggml = ctypes.CDLL(library)


class TypeTraits(ctypes.Structure):
    _fields_ = [("type_name", ctypes.c_char_p), ("blck_size", ctypes.c_int64), ("blck_size_interleave", ctypes.c_int64),
                ("type_size", ctypes.c_size_t), ("is_quantized", ctypes.c_bool), ("to_float", ctypes.c_void_p),
                ("from_float_ref", ctypes.c_void_p)]


ggml.ggml_get_type_traits.restype = ctypes.POINTER(TypeTraits)
ggml.ggml_quantize_chunk.restype = ctypes.c_size_t
ggml.ggml_quantize_chunk.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64, ctypes.c_int64, ctypes.c_int64,
                                     ctypes.c_void_p]
to_float_type = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64)
types = {"q4_0": 2, "q4_1": 3, "q5_0": 6, "q5_1": 7, "q8_0": 8, "q4_K": 12, "q5_K": 13, "q6_K": 14}

rng = np.random.default_rng(7)
rows, columns = 2, 256
# Row 0: a skewed mix of scales (blocks of very different ranges); row 1: normal values with outliers.
values = np.concatenate([rng.normal(0.3, 1, columns) * np.repeat(rng.uniform(0.01, 3, columns // 16), 16),
                         np.where(rng.uniform(size=columns) < 0.02, 8.0, 1.0) * rng.normal(0, 0.05, columns)]).astype(np.float32)
tensors, expected = [], {}
for name, code in types.items():
    traits = ggml.ggml_get_type_traits(code).contents
    size = traits.type_size * rows * columns // traits.blck_size
    blocks = ctypes.create_string_buffer(size)
    written = ggml.ggml_quantize_chunk(code, values.ctypes.data, blocks, 0, rows, columns, None)
    assert written == size, (name, written, size)
    out = np.zeros(rows * columns, dtype=np.float32)
    to_float_type(traits.to_float)(ctypes.cast(blocks, ctypes.c_void_p), out.ctypes.data, rows * columns)
    tensors.append((name, code, blocks.raw))
    expected[name] = [float("%.9g" % v) for v in out]  # 9 digits: exactly the float32

# GGUF version 3: no metadata, tensor infos (ne innermost first), data aligned to 32.
header = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), 0)
offset, data = 0, b""
for name, code, raw in tensors:
    header += struct.pack("<Q", len(name)) + name.encode() + struct.pack("<IQQIQ", 2, columns, rows, code, offset)
    data += raw + b"\0" * (-len(raw) % 32)
    offset += len(raw) + (-len(raw) % 32)
header += b"\0" * (-len(header) % 32)
with open(os.path.join(here, "ggml_blocks.gguf"), "wb") as f:
    f.write(header + data)
with open(os.path.join(here, "ggml_blocks.json"), "w") as f:
    json.dump({"shape": [rows, columns], "values": [float("%.9g" % v) for v in values], "dequantized": expected}, f)
print({name: len(raw) for name, _, raw in tensors})
