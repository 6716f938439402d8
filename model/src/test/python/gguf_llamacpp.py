#!/usr/bin/env python3
"""GGUF files between jgpt and llama.cpp's own reader and writer (gguf.cpp in libggml-base.so, called
through ctypes; no build needed: `npm i -E node-llama-cpp@3.21.1` in a scratch folder brings one at
node_modules/@node-llama-cpp/linux-x64/bins/linux-x64/libggml-base.so).

    python3 model/src/test/python/gguf_llamacpp.py check LIB model/target/gguf-check/jgpt.gguf
        llama.cpp reads the file GgufLlamaCppTest wrote and compares everything with jgpt.json beside
        it: every key with its type and value, every tensor's type, dims, offset, size and the
        SHA-256 of its bytes. Prints "ok: ..." and exits 0, or the differences and exits 1.

    python3 model/src/test/python/gguf_llamacpp.py write LIB model/src/test/resources/dev/jgpt/model/io/gguf/llamacpp-written.gguf
        llama.cpp writes the small file whose content GgufLlamaCppTest.readsAFileLlamaCppWrote expects.
"""
import ctypes
import hashlib
import json
import os
import struct
import sys

T = ["UINT8", "INT8", "UINT16", "INT16", "UINT32", "INT32", "FLOAT32", "BOOL", "STRING", "ARRAY",
     "UINT64", "INT64", "FLOAT64"]
SCALAR = {0: ("u8", ctypes.c_uint8), 1: ("i8", ctypes.c_int8), 2: ("u16", ctypes.c_uint16),
          3: ("i16", ctypes.c_int16), 4: ("u32", ctypes.c_uint32), 5: ("i32", ctypes.c_int32),
          6: ("f32", ctypes.c_float), 7: ("bool", ctypes.c_bool), 10: ("u64", ctypes.c_uint64),
          11: ("i64", ctypes.c_int64), 12: ("f64", ctypes.c_double)}
ARRAY_FMT = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}


class InitParams(ctypes.Structure):
    _fields_ = [("no_alloc", ctypes.c_bool), ("ctx", ctypes.c_void_p)]


class GgmlInitParams(ctypes.Structure):
    _fields_ = [("mem_size", ctypes.c_size_t), ("mem_buffer", ctypes.c_void_p), ("no_alloc", ctypes.c_bool)]


def load(lib_path):
    lib = ctypes.CDLL(lib_path)
    P, I64, S = ctypes.c_void_p, ctypes.c_int64, ctypes.c_char_p
    sig = {"gguf_init_from_file": (P, [S, InitParams]), "gguf_free": (None, [P]),
           "gguf_get_version": (ctypes.c_uint32, [P]), "gguf_get_alignment": (ctypes.c_size_t, [P]),
           "gguf_get_data_offset": (ctypes.c_size_t, [P]), "gguf_get_n_kv": (I64, [P]),
           "gguf_get_key": (S, [P, I64]), "gguf_get_kv_type": (ctypes.c_int, [P, I64]),
           "gguf_get_arr_type": (ctypes.c_int, [P, I64]), "gguf_get_arr_n": (ctypes.c_size_t, [P, I64]),
           "gguf_get_arr_data": (P, [P, I64]), "gguf_get_arr_str": (S, [P, I64, ctypes.c_size_t]),
           "gguf_get_val_str": (S, [P, I64]), "gguf_get_n_tensors": (I64, [P]),
           "gguf_get_tensor_name": (S, [P, I64]), "gguf_get_tensor_type": (ctypes.c_int, [P, I64]),
           "gguf_get_tensor_offset": (ctypes.c_size_t, [P, I64]), "gguf_get_tensor_size": (ctypes.c_size_t, [P, I64]),
           "gguf_get_tensor_ne": (ctypes.POINTER(I64), [P, I64]),
           "gguf_init_empty": (P, []), "gguf_write_to_file": (ctypes.c_bool, [P, S, ctypes.c_bool]),
           "gguf_set_val_str": (None, [P, S, S]), "gguf_set_arr_str": (None, [P, S, ctypes.POINTER(S), ctypes.c_size_t]),
           "gguf_set_arr_data": (None, [P, S, ctypes.c_int, P, ctypes.c_size_t]),
           "gguf_add_tensor": (None, [P, P]), "ggml_init": (P, [GgmlInitParams]),
           "ggml_new_tensor": (P, [P, ctypes.c_int, ctypes.c_int, ctypes.POINTER(I64)]),
           "ggml_set_name": (P, [P, S]), "ggml_get_data": (P, [P]), "ggml_nbytes": (ctypes.c_size_t, [P]),
           "ggml_free": (None, [P])}
    for name, (ret, args) in sig.items():
        f = getattr(lib, name)
        f.restype, f.argtypes = ret, args
    for code, (suffix, ctype) in SCALAR.items():
        g = getattr(lib, "gguf_get_val_" + suffix)
        g.restype, g.argtypes = ctype, [P, I64]
        s = getattr(lib, "gguf_set_val_" + suffix)
        s.restype, s.argtypes = None, [P, S, ctype]
    return lib


def json_number(t, v):
    if t in (6, 12):
        return {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}.get(repr(float(v)), v)
    return v


def read(lib, path):
    """Everything llama.cpp sees in the file, as the JSON the Java test writes."""
    ctx = lib.gguf_init_from_file(path.encode(), InitParams(True, None))
    if not ctx:
        sys.exit("llama.cpp could not read " + path)
    try:
        out = {"version": lib.gguf_get_version(ctx), "alignment": lib.gguf_get_alignment(ctx), "metadata": {}, "tensors": []}
        data_offset = lib.gguf_get_data_offset(ctx)
        for i in range(lib.gguf_get_n_kv(ctx)):
            key, t = lib.gguf_get_key(ctx, i).decode(), lib.gguf_get_kv_type(ctx, i)
            if t == 8:
                v = {"type": "STRING", "value": lib.gguf_get_val_str(ctx, i).decode()}
            elif t == 9:
                et, n = lib.gguf_get_arr_type(ctx, i), lib.gguf_get_arr_n(ctx, i)
                if et == 8:
                    vals = [lib.gguf_get_arr_str(ctx, i, j).decode() for j in range(n)]
                else:
                    fmt = ARRAY_FMT[et]
                    raw = ctypes.string_at(lib.gguf_get_arr_data(ctx, i), n * struct.calcsize(fmt)) if n else b""
                    vals = [json_number(et, x) for x in struct.unpack("<%d%s" % (n, fmt), raw)]
                v = {"type": "ARRAY", "element": T[et], "values": vals}
            else:
                v = {"type": T[t], "value": json_number(t, getattr(lib, "gguf_get_val_" + SCALAR[t][0])(ctx, i))}
            out["metadata"][key] = v
        with open(path, "rb") as f:
            blob = f.read()
        for i in range(lib.gguf_get_n_tensors(ctx)):
            ne = lib.gguf_get_tensor_ne(ctx, i)
            off, size = lib.gguf_get_tensor_offset(ctx, i), lib.gguf_get_tensor_size(ctx, i)
            out["tensors"].append({"name": lib.gguf_get_tensor_name(ctx, i).decode(), "type": lib.gguf_get_tensor_type(ctx, i),
                                   "ne": [ne[d] for d in range(4)], "offset": off, "bytes": size,
                                   "sha256": hashlib.sha256(blob[data_offset + off:data_offset + off + size]).hexdigest()})
        return out
    finally:
        lib.gguf_free(ctx)


def check(lib, path):
    with open(os.path.splitext(path)[0] + ".json") as f:
        want = json.load(f)
    got = read(lib, path)
    diffs = []
    for k in ("version", "alignment"):
        if got[k] != want[k]:
            diffs.append("%s: llama.cpp %r, jgpt %r" % (k, got[k], want[k]))
    if list(got["metadata"]) != list(want["metadata"]):
        diffs.append("keys: llama.cpp %s, jgpt %s" % (list(got["metadata"]), list(want["metadata"])))
    for k, v in want["metadata"].items():
        if got["metadata"].get(k) != v:
            diffs.append("key %s: llama.cpp %r, jgpt %r" % (k, got["metadata"].get(k), v))
    if got["tensors"] != want["tensors"]:
        for g, w in zip(got["tensors"], want["tensors"]):
            if g != w:
                diffs.append("tensor: llama.cpp %r, jgpt %r" % (g, w))
        if len(got["tensors"]) != len(want["tensors"]):
            diffs.append("tensor count: llama.cpp %d, jgpt %d" % (len(got["tensors"]), len(want["tensors"])))
    if diffs:
        print("\n".join(diffs))
        sys.exit(1)
    print("ok: llama.cpp reads %s as jgpt wrote it (%d keys, %d tensors)" % (path, len(want["metadata"]), len(want["tensors"])))


def write(lib, path):
    """A small file written by llama.cpp's gguf writer; GgufLlamaCppTest knows its content."""
    ctx = lib.gguf_init_empty()
    S = ctypes.c_char_p
    lib.gguf_set_val_str(ctx, b"general.architecture", b"llama")
    for code, (suffix, ctype) in SCALAR.items():
        value = {0: 200, 1: -100, 2: 60000, 3: -30000, 4: 4000000000, 5: -2000000000, 6: 1.5, 7: True,
                 10: 2 ** 63 + 5, 11: -(2 ** 62), 12: -2.25}[code]
        getattr(lib, "gguf_set_val_" + suffix)(ctx, ("v." + T[code].lower()).encode(), ctype(value))
    lib.gguf_set_val_str(ctx, b"v.string", "Ġnaïve 🎉".encode())
    words = [b"a", b"", "Ġb".encode()]
    lib.gguf_set_arr_str(ctx, b"a.string", (S * 3)(*words), 3)
    ints = (ctypes.c_int32 * 4)(1, -2, 3, -4)
    lib.gguf_set_arr_data(ctx, b"a.int32", 5, ctypes.cast(ints, ctypes.c_void_p), 4)
    floats = (ctypes.c_float * 2)(0.25, -8.0)
    lib.gguf_set_arr_data(ctx, b"a.float32", 6, ctypes.cast(floats, ctypes.c_void_p), 2)
    gctx = lib.ggml_init(GgmlInitParams(1 << 20, None, False))
    # f32 [3 × 5] (ne 5, 3), q8_0 [2 × 64] (ne 64, 2), q4_K [1 × 256]: bytes i·7 + k mod 256 (tensor k)
    for k, (name, gtype, ne) in enumerate([(b"t.f32", 0, [5, 3]), (b"t.q8_0", 8, [64, 2]), (b"t.q4_K", 12, [256])]):
        t = lib.ggml_new_tensor(gctx, gtype, len(ne), (ctypes.c_int64 * len(ne))(*ne))
        lib.ggml_set_name(t, name)
        n = lib.ggml_nbytes(t)
        ctypes.memmove(lib.ggml_get_data(t), bytes((i * 7 + k) % 256 for i in range(n)), n)
        lib.gguf_add_tensor(ctx, t)
    if not lib.gguf_write_to_file(ctx, path.encode(), False):
        sys.exit("llama.cpp could not write " + path)
    lib.ggml_free(gctx)
    lib.gguf_free(ctx)
    print("wrote", path)


if __name__ == "__main__":
    cmd, lib_path, file = sys.argv[1:4]
    {"check": check, "write": write}[cmd](load(lib_path), file)
