#!/usr/bin/env node
// llama.cpp peer for DecodeBench -p model=llama-1b: the same Llama-3.2-1B-shaped model (16 layers, 32
// query and 8 kv heads of 64, 2048 wide, SwiGLU 8192, 128256 tokens, tied head; random f32 weights) as a
// GGUF file, run by llama.cpp on the CPU through node-llama-cpp, under DecodeBench's protocol:
//
// - prefill: a 64-token prompt into an empty cache, one batch; reported as prompt tok/s.
// - decode: the cache holds a 64-token prefix and greedy decoding runs positions 64..191, then the cache
//   is cut back to the prefix; reported as tok/s, and as GB/s of weights read (every weight once a step).
//
// node-llama-cpp ships llama.cpp prebuilt (no compiler needed); install it in a scratch folder:
//
//   (mkdir -p /tmp/nlc && cd /tmp/nlc && npm i -E node-llama-cpp@3.21.1)
//   node benchmarks/scripts/llamacpp_decode.mjs --nlc /tmp/nlc --threads 2 [--seconds 20] [--gguf FILE] [--json]
//   node benchmarks/scripts/llamacpp_decode.mjs --nlc /tmp/nlc --threads 2 --model FILE.gguf [--json]
//
// The GGUF (4.9 GB, F32) is written to --gguf (default /tmp/jgpt-llama-1b-f32.gguf) on first use and kept
// for the next run: delete it afterwards. Its vocabulary is a placeholder (SentencePiece-style byte tokens
// and made-up pieces): token ids go in directly, so no text is ever tokenized.
//
// --model FILE runs an existing GGUF file of any architecture and type instead (one written by `jgpt export`,
// say, which GgufDecode.java then runs in jgpt under the same protocol), with prompt ids below its vocabulary
// size; no GB/s then (the bytes read per token depend on the file's types).
import fs from "node:fs";
import path from "node:path";
import {pathToFileURL} from "node:url";

const SHAPE = {vocab: 128256, dim: 2048, layers: 16, heads: 32, kvHeads: 8, headDim: 64, hidden: 8192, ctx: 1024};

function args() {
    const a = {nlc: "/tmp/nlc", threads: 2, seconds: 10, gguf: "/tmp/jgpt-llama-1b-f32.gguf", model: "", json: false};
    const argv = process.argv.slice(2);
    for (let i = 0; i < argv.length; i++) {
        const k = argv[i].replace(/^--/, "");
        if (k === "json") a.json = true;
        else if (k in a && i + 1 < argv.length) a[k] = typeof a[k] === "number" ? Number(argv[++i]) : argv[++i];
        else throw new Error(`unknown option ${argv[i]} (--nlc DIR, --threads N, --seconds S, --gguf FILE, --model FILE, --json)`);
    }
    return a;
}

/** The tensors of llama.cpp's llama architecture, dims innermost first ([in, out] for an [out, in] weight). */
function tensors(s) {
    const t = [["token_embd.weight", [s.dim, s.vocab]]];
    for (let l = 0; l < s.layers; l++) {
        t.push([`blk.${l}.attn_norm.weight`, [s.dim]],
            [`blk.${l}.attn_q.weight`, [s.dim, s.heads * s.headDim]],
            [`blk.${l}.attn_k.weight`, [s.dim, s.kvHeads * s.headDim]],
            [`blk.${l}.attn_v.weight`, [s.dim, s.kvHeads * s.headDim]],
            [`blk.${l}.attn_output.weight`, [s.heads * s.headDim, s.dim]],
            [`blk.${l}.ffn_norm.weight`, [s.dim]],
            [`blk.${l}.ffn_gate.weight`, [s.dim, s.hidden]],
            [`blk.${l}.ffn_up.weight`, [s.dim, s.hidden]],
            [`blk.${l}.ffn_down.weight`, [s.hidden, s.dim]]);
    }
    t.push(["output_norm.weight", [s.dim]]);   // no output.weight: the head is the token embedding
    return t;
}

/** GGUF v3 writer for what this file needs: u32/f32/string values, string/f32/i32 arrays, F32 tensors. */
class Bytes {
    constructor() { this.parts = []; }
    u32(v) { const b = Buffer.alloc(4); b.writeUInt32LE(v); this.parts.push(b); return this; }
    i32(v) { const b = Buffer.alloc(4); b.writeInt32LE(v); this.parts.push(b); return this; }
    u64(v) { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(v)); this.parts.push(b); return this; }
    f32(v) { const b = Buffer.alloc(4); b.writeFloatLE(v); this.parts.push(b); return this; }
    str(s) { const b = Buffer.from(s, "utf8"); this.u64(b.length); this.parts.push(b); return this; }
    buffer() { return Buffer.concat(this.parts); }
}

const T_U32 = 4, T_I32 = 5, T_F32 = 6, T_STRING = 8, T_ARRAY = 9, GGML_F32 = 0, ALIGN = 32;

function writeGguf(file, s) {
    const tokens = [], scores = [], types = [];
    for (const [piece, type] of [["<unk>", 2], ["<s>", 3], ["</s>", 3]]) {
        tokens.push(piece); scores.push(0); types.push(type);
    }
    for (let b = 0; b < 256; b++) {
        tokens.push(`<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`); scores.push(0); types.push(6);
    }
    while (tokens.length < s.vocab) {
        tokens.push(`▁t${tokens.length}`); scores.push(-tokens.length); types.push(1);
    }
    const kv = [
        ["general.architecture", (b) => b.u32(T_STRING).str("llama")],
        ["general.name", (b) => b.u32(T_STRING).str("jgpt llama-1b random f32")],
        ["llama.context_length", (b) => b.u32(T_U32).u32(131072)],
        ["llama.embedding_length", (b) => b.u32(T_U32).u32(s.dim)],
        ["llama.block_count", (b) => b.u32(T_U32).u32(s.layers)],
        ["llama.feed_forward_length", (b) => b.u32(T_U32).u32(s.hidden)],
        ["llama.attention.head_count", (b) => b.u32(T_U32).u32(s.heads)],
        ["llama.attention.head_count_kv", (b) => b.u32(T_U32).u32(s.kvHeads)],
        ["llama.rope.dimension_count", (b) => b.u32(T_U32).u32(s.headDim)],
        ["llama.rope.freq_base", (b) => b.u32(T_F32).f32(500000)],
        ["llama.attention.layer_norm_rms_epsilon", (b) => b.u32(T_F32).f32(1e-5)],
        ["llama.vocab_size", (b) => b.u32(T_U32).u32(s.vocab)],
        ["general.file_type", (b) => b.u32(T_U32).u32(0)],
        ["tokenizer.ggml.model", (b) => b.u32(T_STRING).str("llama")],
        ["tokenizer.ggml.tokens", (b) => { b.u32(T_ARRAY).u32(T_STRING).u64(tokens.length); tokens.forEach((t) => b.str(t)); }],
        ["tokenizer.ggml.scores", (b) => { b.u32(T_ARRAY).u32(T_F32).u64(scores.length); scores.forEach((v) => b.f32(v)); }],
        ["tokenizer.ggml.token_type", (b) => { b.u32(T_ARRAY).u32(T_I32).u64(types.length); types.forEach((v) => b.i32(v)); }],
        ["tokenizer.ggml.unknown_token_id", (b) => b.u32(T_U32).u32(0)],
        ["tokenizer.ggml.bos_token_id", (b) => b.u32(T_U32).u32(1)],
        ["tokenizer.ggml.eos_token_id", (b) => b.u32(T_U32).u32(2)],
    ];
    const ts = tensors(s);
    const head = new Bytes().u32(0x46554747).u32(3).u64(ts.length).u64(kv.length);
    for (const [key, put] of kv) {
        head.str(key);
        put(head);
    }
    let offset = 0;
    for (const [name, dims] of ts) {
        head.str(name).u32(dims.length);
        dims.forEach((d) => head.u64(d));
        head.u32(GGML_F32).u64(offset);
        offset += Math.ceil(dims.reduce((x, y) => x * y, 4) / ALIGN) * ALIGN;
    }
    let header = head.buffer();
    header = Buffer.concat([header, Buffer.alloc((ALIGN - header.length % ALIGN) % ALIGN)]);
    const tmp = file + ".part", fd = fs.openSync(tmp, "w");
    fs.writeSync(fd, header);
    const chunk = new Float32Array(1 << 22);
    let state = 0x9e3779b9;
    for (const [name, dims] of ts) {
        const n = dims.reduce((x, y) => x * y, 1);
        const norm = dims.length === 1;
        for (let i = 0; i < n; i += chunk.length) {
            const m = Math.min(chunk.length, n - i);
            for (let j = 0; j < m; j++) {   // xorshift32, uniform in ±0.035 (σ 0.02); norms are ones
                state ^= state << 13; state ^= state >>> 17; state ^= state << 5;
                chunk[j] = norm ? 1 : ((state >>> 0) / 4294967296 - 0.5) * 0.07;
            }
            fs.writeSync(fd, new Uint8Array(chunk.buffer, 0, m * 4));
        }
        const pad = (ALIGN - (n * 4) % ALIGN) % ALIGN;
        if (pad) fs.writeSync(fd, Buffer.alloc(pad));
        process.stderr.write(`\rwriting ${file}: ${name}        `);
    }
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fs.renameSync(tmp, file);
    process.stderr.write("\n");
}

function median(xs) {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

async function main() {
    const a = args();
    const {getLlama, LlamaLogLevel} = await import(pathToFileURL(path.join(a.nlc, "node_modules/node-llama-cpp/dist/index.js")).href);
    if (a.model && !fs.existsSync(a.model)) throw new Error(`--model ${a.model}: no such file`);
    if (!a.model && !fs.existsSync(a.gguf)) writeGguf(a.gguf, SHAPE);
    const llama = await getLlama({gpu: false, build: "never", logLevel: LlamaLogLevel.error});
    const model = await llama.loadModel({modelPath: a.model || a.gguf, gpuLayers: 0});
    const s = a.model ? {vocab: model.fileInfo.metadata.tokenizer.ggml.tokens.length, ctx: 256} : SHAPE;
    const context = await model.createContext({contextSize: s.ctx, batchSize: 64, threads: {ideal: a.threads, min: a.threads}});
    const seq = context.getSequence();
    // in BigInt: r · 1103515245 passes 2^53, where doubles would round it and give other ids than GgufDecode.java's
    let r = 7n;
    const prompt = Array.from({length: 64}, () => Number((r = (r * 1103515245n + 12345n) % 2147483648n) % BigInt(s.vocab)));

    const samples = [];
    for (let i = 0, deadline = performance.now() + 1000 * a.seconds; i < 8 || performance.now() < deadline; i++) {
        await seq.clearHistory();
        const t0 = performance.now();
        await seq.evaluateWithoutGeneratingNewTokens(prompt);
        if (i >= 3) samples.push(64 / ((performance.now() - t0) / 1000));   // 3 warm-up rounds
    }
    const prefill = median(samples);

    const prefix = 64, end = prefix + 128;
    await seq.clearHistory();
    await seq.evaluateWithoutGeneratingNewTokens(prompt);
    let next = prompt[prompt.length - 1];
    // One evaluation per pass over positions prefix..end-1, timed in 16-token chunks inside it: starting an
    // evaluation costs node-llama-cpp tens of milliseconds, which a chunk per evaluation counted as llama.cpp's.
    async function pass(rates) {
        if (seq.nextTokenIndex > prefix) await seq.eraseContextTokenRanges([{start: prefix, end: seq.nextTokenIndex}]);
        let k = 0, t0 = performance.now();
        for await (const token of seq.evaluate([next], {temperature: 0})) {
            next = token;
            if (++k % 16 === 0) {
                const t = performance.now();
                rates.push(16 / ((t - t0) / 1000));
                t0 = t;
            }
            if (k === end - prefix) break;
        }
    }
    await pass([]);   // warm-up
    const rates = [];
    for (const deadline = performance.now() + 1000 * a.seconds; rates.length < 5 || performance.now() < deadline;) await pass(rates);
    const decodeRate = median(rates);
    const name = a.model ? path.basename(a.model) : "llama-1b";
    const result = {peer: "llama.cpp (node-llama-cpp 3.21.1)", model: name, threads: a.threads,
        prefill_tok_s: prefill, decode_tok_s: decodeRate, positions: [prefix, end - 1],
        system_info: llama.systemInfo.replace(/[\s|]+$/, "")};   // the instruction sets its CPU build uses
    let weights = "";
    if (!a.model) {   // the built-in F32 shape: every weight read once a step
        let params = 0;
        for (const [, dims] of tensors(s)) params += dims.reduce((x, y) => x * y, 1);
        Object.assign(result, {params, decode_gbps: decodeRate * 4 * params / 1e9});
        weights = ` (${(params / 1e6).toFixed(1)}M params, ${result.decode_gbps.toFixed(1)} GB/s of weights)`;
    }
    if (a.json) console.log(JSON.stringify(result));
    else console.log(`llama.cpp ${name} threads ${a.threads}: prefill(64) ${prefill.toFixed(1)} tok/s, `
        + `decode ${decodeRate.toFixed(2)} tok/s${weights}, decode positions ${prefix}..${end - 1}`);
    await context.dispose();
    await model.dispose();
    await llama.dispose();
}

await main();
