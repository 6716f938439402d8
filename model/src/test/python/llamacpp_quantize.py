#!/usr/bin/env python3
"""llama.cpp's own quantizer (llama_model_quantize in libllama, as llama-quantize calls it; no build: the
prebuilt CPU binaries of `npm i -E node-llama-cpp@3.21.1`) on a GGUF file, e.g. one `jgpt export` wrote:

    python3 model/src/test/python/llamacpp_quantize.py BINS in-f32.gguf out-q4_k_m.gguf Q4_K_M

BINS is node_modules/@node-llama-cpp/linux-x64/bins/linux-x64. The result is a file made by the real
llama.cpp (its type mix, e.g. Q4_K_M's q6_K attn_v/ffn_down halves), for jgpt to read.
"""
import ctypes
import os
import sys

# llama.h's enum llama_ftype
FTYPES = {"F32": 0, "F16": 1, "Q4_0": 2, "Q8_0": 7, "Q4_K_S": 14, "Q4_K_M": 15, "Q6_K": 18, "BF16": 32}


class Params(ctypes.Structure):
    # nthread and ftype lead llama_model_quantize_params in every version; the rest is left as the
    # library's defaults fill it (the buffer is larger than the struct, returned through a hidden pointer)
    _fields_ = [("nthread", ctypes.c_int32), ("ftype", ctypes.c_int32), ("rest", ctypes.c_uint8 * 248)]


def main(bins, src, dst, ftype):
    ctypes.CDLL(os.path.join(bins, "libggml-base.so"), mode=ctypes.RTLD_GLOBAL)
    ctypes.CDLL(os.path.join(bins, "libggml.v0.4.0.so"), mode=ctypes.RTLD_GLOBAL)
    lib = ctypes.CDLL(os.path.join(bins, "libllama.v0.4.0.so"))
    lib.llama_model_quantize_default_params.restype = Params
    lib.llama_model_quantize.restype = ctypes.c_uint32
    lib.llama_model_quantize.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.POINTER(Params)]
    p = lib.llama_model_quantize_default_params()
    p.nthread = 2
    p.ftype = FTYPES[ftype.upper()]
    rc = lib.llama_model_quantize(src.encode(), dst.encode(), ctypes.byref(p))
    if rc != 0:
        sys.exit(f"llama_model_quantize failed ({rc})")
    print(f"ok: {dst} ({ftype})")


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    main(*sys.argv[1:])
