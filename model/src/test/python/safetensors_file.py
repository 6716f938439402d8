"""A self-contained safetensors reader/writer for the PyTorch references (gpt2_reference.py,
llama_reference.py): an 8-byte little-endian header length, a JSON header {name: {dtype, shape,
data_offsets}}, then the raw little-endian tensor bytes. F32, F16 and BF16, widened exactly to float32
on reading; written in each tensor's own dtype, as safetensors does (sorted names, header padded with
spaces to 8 bytes, "__metadata__": {"format": "pt"}). Needs torch and numpy (Debian: python3-torch)."""
import json, struct
import numpy as np
import torch

# safetensors dtype -> (torch dtype, bytes per element); same-size integer types move the raw bits.
DTYPES = {"F32": (torch.float32, 4), "F16": (torch.float16, 2), "BF16": (torch.bfloat16, 2)}
NAME_OF = {v[0]: k for k, v in DTYPES.items()}
BITS = {2: (np.int16, torch.int16), 4: (np.int32, torch.int32)}


def read(path):
    """name -> float32 tensor."""
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        b, e = info["data_offsets"]
        dtype, size = DTYPES[info["dtype"]]
        bits = np.frombuffer(raw[8 + n + b:8 + n + e], dtype=BITS[size][0]).copy()
        out[name] = torch.from_numpy(bits).view(dtype).float().reshape(info["shape"])
    return out


def write(path, tensors):
    """Writes each tensor in its own dtype (F32, F16 or BF16)."""
    header, blobs, off = {"__metadata__": {"format": "pt"}}, [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous()
        size = DTYPES[NAME_OF[t.dtype]][1]
        data = t.view(BITS[size][1]).numpy().tobytes()
        header[name] = {"dtype": NAME_OF[t.dtype], "shape": list(t.shape), "data_offsets": [off, off + len(data)]}
        blobs.append(data)
        off += len(data)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))
