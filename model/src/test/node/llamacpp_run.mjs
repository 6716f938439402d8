// Runs a GGUF file in llama.cpp (the prebuilt CPU binaries of node-llama-cpp; no build) and prints JSON:
// the prompt's token ids, the greedy continuation (ids and text), and the mean next-token
// cross-entropy of a text file, for comparison with `jgpt generate --temp 0` and `jgpt eval`.
//
//   npm i -E node-llama-cpp@3.21.1 --prefix /tmp/nlc     (once; its prebuilt binaries suffice)
//   node model/src/test/node/llamacpp_run.mjs /tmp/nlc/node_modules/node-llama-cpp FILE.gguf PROMPT N [TEXT_FILE]
import {readFileSync} from "node:fs";
import {join} from "node:path";
import {pathToFileURL} from "node:url";

const [lib, modelPath, prompt, n, textFile] = process.argv.slice(2);
const {getLlama, LlamaLogLevel} = await import(pathToFileURL(join(lib, "dist/index.js")).href);
const llama = await getLlama({gpu: false, build: "never", logLevel: LlamaLogLevel.error});
const model = await llama.loadModel({modelPath});
const threads = Number(process.env.THREADS ?? 2);

async function sequence(size) {
    const context = await model.createContext({contextSize: size, threads, batchSize: size});
    return context.getSequence();
}

const out = {};
const promptIds = model.tokenize(prompt, false);
out.promptTokens = promptIds;
{
    const seq = await sequence(Math.max(64, promptIds.length + Number(n) + 8));
    const generated = [];
    const start = process.hrtime.bigint();
    for await (const token of seq.evaluate(promptIds, {temperature: 0})) {
        generated.push(token);
        if (generated.length >= Number(n)) break;
    }
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    out.generated = generated;
    out.text = model.detokenize(generated);
    out.tokensPerSecond = generated.length / seconds;
}
if (textFile) {
    // the text's tokens in one window (as jgpt eval scores a text no longer than the context)
    const ids = model.tokenize(readFileSync(textFile, "utf8"), false);
    const seq = await sequence(ids.length + 8);
    const input = ids.slice(0, -1).map(t => [t, {generateNext: {probabilities: true}}]);
    const res = await seq.controlledEvaluate(input);
    let nll = 0;
    for (let i = 0; i < res.length; i++) {
        const p = res[i].next.probabilities.get(ids[i + 1]) ?? 0;
        nll -= Math.log(p);
    }
    out.textTokens = ids.length;
    out.loss = nll / res.length;
}
console.log(JSON.stringify(out));
await model.dispose();
await llama.dispose();
