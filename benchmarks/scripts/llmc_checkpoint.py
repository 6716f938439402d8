#!/usr/bin/python3
"""Writes a run directory that llm.c's CPU trainer (train_gpt2.c) can time: a random-weight GPT-2
checkpoint, token files and a placeholder tokenizer, all in llm.c's binary formats.

train_gpt2.c's main() opens fixed relative paths, so the directory is laid out as it expects and the
binary is run with it as the working directory:

    gpt2_124M.bin                                        model (header + fp32 parameters)
    gpt2_tokenizer.bin                                   tokenizer (only decodes the samples it prints)
    dev/data/tinyshakespeare/tiny_shakespeare_train.bin  uint16 tokens
    dev/data/tinyshakespeare/tiny_shakespeare_val.bin    uint16 tokens

Formats, checked against karpathy/llm.c (train_gpt2.c @ db2454f8, llmc/dataloader.h @ 077f9bdd,
llmc/tokenizer.h @ 0def6659). The lines relied on:

  train_gpt2.c, gpt2_build_from_checkpoint():
    int model_header[256];
    freadCheck(model_header, sizeof(int), 256, model_file);
    if (model_header[0] != 20240326) { printf("Bad magic model file\\n"); exit(1); }
    if (model_header[1] != 3) {
    model->config.max_seq_len = maxT = model_header[2];
    model->config.vocab_size = V = model_header[3];
    model->config.num_layers = L = model_header[4];
    model->config.num_heads = NH = model_header[5];
    model->config.channels = C = model_header[6];
    model->config.padded_vocab_size = Vp = model_header[7];
    ...
    freadCheck(model->params_memory, sizeof(float), num_parameters, model_file);
  train_gpt2.c, fill_in_parameter_sizes() (the order of the tensors in the file):
    param_sizes[0] = Vp * C; // wte          param_sizes[8] = L * C; // ln2w
    param_sizes[1] = maxT * C; // wpe        param_sizes[9] = L * C; // ln2b
    param_sizes[2] = L * C; // ln1w          param_sizes[10] = L * (4 * C) * C; // fcw
    param_sizes[3] = L * C; // ln1b          param_sizes[11] = L * (4 * C); // fcb
    param_sizes[4] = L * (3 * C) * C; // qkvw  param_sizes[12] = L * C * (4 * C); // fcprojw
    param_sizes[5] = L * (3 * C); // qkvb    param_sizes[13] = L * C; // fcprojb
    param_sizes[6] = L * C * C; // attprojw  param_sizes[14] = C; // lnfw
    param_sizes[7] = L * C; // attprojb      param_sizes[15] = C; // lnfb
  train_gpt2.c, softmax_forward(): "Vp is the padded vocab size (for efficiency), V is the "real"
    vocab size / example: Vp is 50304 and V is 50257" (rows V..Vp-1 of wte are padding; zeros here).
  train_gpt2.c, main(): gpt2_build_from_checkpoint(&model, "gpt2_124M.bin");
    tiny_shakespeare_train = "dev/data/tinyshakespeare/tiny_shakespeare_train.bin" (and _val.bin);
    int B = 4; int T = 64; tokenizer_init(&tokenizer, "gpt2_tokenizer.bin");
    printf("step %d: train loss %f (took %f ms)\\n", step, model.mean_loss, time_elapsed_s * 1000);
  llmc/dataloader.h, dataloader_load_shard_():
    int header[HEADER_SIZE];                       (#define HEADER_SIZE 256)
    if (header[0] != 20240520) { printf("Bad magic in the data file\\n"); ...
    if (header[1] != 1) { printf("Bad version in data file\\n"); exit(EXIT_FAILURE); }
    int64_t ntok = header[2]; // number of tokens in the file
    int64_t expected_file_size = HEADER_SIZE * sizeof(int) + ntok * sizeof(uint16_t);
  llmc/tokenizer.h, tokenizer_init():
    assert(header[0] == 20240328);  ... } else if (version == 2) { tokenizer->eot_token = header[3];
    freadCheck(&length, sizeof(unsigned char), 1, file); assert(length > 0); (then `length` bytes)
  Without the tokenizer file llm.c only warns, but then eot_token (the first token of the samples it
  generates at step 20) is uninitialised, so a small placeholder tokenizer is written.

Usage: llmc_checkpoint.py DIR [--layers 12 --heads 12 --channels 768 --max-t 1024 --vocab 50257]
"""
import argparse
import array
import os
import random
import struct
import sys

MODEL_MAGIC, MODEL_VERSION = 20240326, 3
DATA_MAGIC, DATA_VERSION = 20240520, 1
TOKENIZER_MAGIC, TOKENIZER_VERSION = 20240328, 2
HEADER_INTS = 256


def padded_vocab(v, multiple=128):
    """llm.c pads the vocabulary to a multiple of 128 (50257 -> 50304)."""
    return (v + multiple - 1) // multiple * multiple


def header(*values):
    """256 little-endian int32, the given values first, the rest zero."""
    ints = list(values) + [0] * (HEADER_INTS - len(values))
    return struct.pack("<%di" % HEADER_INTS, *ints)


def parameter_shapes(max_t, v, vp, layers, channels):
    """(name, element count, kind) in llm.c's file order; kind picks the initial values."""
    L, C = layers, channels
    return [
        ("wte", vp * C, "wte"), ("wpe", max_t * C, "normal"),
        ("ln1w", L * C, "ones"), ("ln1b", L * C, "zeros"),
        ("qkvw", L * 3 * C * C, "normal"), ("qkvb", L * 3 * C, "zeros"),
        ("attprojw", L * C * C, "normal"), ("attprojb", L * C, "zeros"),
        ("ln2w", L * C, "ones"), ("ln2b", L * C, "zeros"),
        ("fcw", L * 4 * C * C, "normal"), ("fcb", L * 4 * C, "zeros"),
        ("fcprojw", L * C * 4 * C, "normal"), ("fcprojb", L * C, "zeros"),
        ("lnfw", C, "ones"), ("lnfb", C, "zeros"),
    ]


def _normal_bytes(count, std, seed):
    """count float32 ~ N(0, std²) as little-endian bytes; torch when present (fast), else the stdlib."""
    try:
        import torch
        g = torch.Generator().manual_seed(seed)
        return (torch.randn(count, generator=g) * std).numpy().astype("<f4").tobytes()
    except ImportError:
        rnd = random.Random(seed)
        return array.array("f", (rnd.gauss(0.0, std) for _ in range(count))).tobytes()


def _const_bytes(count, value):
    return struct.pack("<f", value) * count


def write_model(path, layers=12, heads=12, channels=768, max_t=1024, vocab=50257, seed=1, std=0.02):
    """GPT-2 checkpoint with random weights (std 0.02, LN weights 1, biases 0, wte padding rows 0)."""
    vp = padded_vocab(vocab)
    total = 0
    with open(path + ".tmp", "wb") as f:
        f.write(header(MODEL_MAGIC, MODEL_VERSION, max_t, vocab, layers, heads, channels, vp))
        for i, (name, n, kind) in enumerate(parameter_shapes(max_t, vocab, vp, layers, channels)):
            if kind == "wte":
                f.write(_normal_bytes(vocab * channels, std, seed + i))
                f.write(_const_bytes((vp - vocab) * channels, 0.0))
            elif kind == "normal":
                f.write(_normal_bytes(n, std, seed + i))
            else:
                f.write(_const_bytes(n, 1.0 if kind == "ones" else 0.0))
            total += n
    expected = 4 * HEADER_INTS + 4 * total
    if os.path.getsize(path + ".tmp") != expected:
        raise RuntimeError("llmc checkpoint: wrote %d bytes, expected %d" % (os.path.getsize(path + ".tmp"), expected))
    os.replace(path + ".tmp", path)
    return total


def write_tokens(path, tokens):
    """llm.c token file: header (magic, version, count) then uint16 tokens."""
    if any(t < 0 or t > 0xFFFF for t in tokens):
        raise ValueError("llmc tokens: ids must fit uint16")
    with open(path, "wb") as f:
        f.write(header(DATA_MAGIC, DATA_VERSION, len(tokens)))
        f.write(array.array("H", tokens).tobytes() if sys.byteorder == "little"
                else struct.pack("<%dH" % len(tokens), *tokens))


def write_tokenizer(path, vocab=50257, eot=50256):
    """Placeholder decode table ("<id>" per token) with the EOT id, so llm.c's samples start correctly."""
    with open(path, "wb") as f:
        f.write(header(TOKENIZER_MAGIC, TOKENIZER_VERSION, vocab, eot))
        for i in range(vocab):
            piece = ("<%d>" % i).encode()
            f.write(bytes([len(piece)]) + piece)


def write_run_dir(d, layers=12, heads=12, channels=768, max_t=1024, vocab=50257, tokens=65536, seed=1):
    """Everything train_gpt2's main() opens, under d. Returns the parameter count."""
    data = os.path.join(d, "dev", "data", "tinyshakespeare")
    os.makedirs(data, exist_ok=True)
    n = write_model(os.path.join(d, "gpt2_124M.bin"), layers, heads, channels, max_t, vocab, seed)
    rnd = random.Random(seed)
    write_tokens(os.path.join(data, "tiny_shakespeare_train.bin"), [rnd.randrange(vocab) for _ in range(tokens)])
    write_tokens(os.path.join(data, "tiny_shakespeare_val.bin"), [rnd.randrange(vocab) for _ in range(tokens // 4)])
    write_tokenizer(os.path.join(d, "gpt2_tokenizer.bin"), vocab, vocab - 1)
    return n


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dir")
    ap.add_argument("--layers", type=int, default=12)
    ap.add_argument("--heads", type=int, default=12)
    ap.add_argument("--channels", type=int, default=768)
    ap.add_argument("--max-t", type=int, default=1024)
    ap.add_argument("--vocab", type=int, default=50257)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    n = write_run_dir(a.dir, a.layers, a.heads, a.channels, a.max_t, a.vocab, seed=a.seed)
    print("llm.c run dir %s: %d parameters (%.1f MB)" % (a.dir, n, 4 * n / 1e6))


if __name__ == "__main__":
    main()
