// Single-threaded encoding speed of Hugging Face's Rust tokenizers (npm `tokenizers`, its Node binding) on a BEIR
// corpus, measured as `trainer benchmark tokenize` measures ours: each document as title and text, one cold pass on a
// fresh tokenizer, then the best of the warm passes, in MB of UTF-8 and tokens per second, no special tokens added.
//
//   RAYON_NUM_THREADS=1 node bpe-benchmark.mjs FOLDER CORPUS.jsonl [PASSES]
//
// Two ways of calling it: `encode` awaited text by text (each call crosses into Rust and back through a promise), and
// one `encodeBatch` of the whole corpus per pass (one crossing; with RAYON_NUM_THREADS=1 a single thread encodes).
// Each figure is given by wall time and by the process's CPU time (a shared machine's other work stretches wall time).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Tokenizer } from 'tokenizers';

const [folder, corpusPath, passesArg] = process.argv.slice(2);
if (!folder || !corpusPath) {
    console.error('usage: RAYON_NUM_THREADS=1 node bpe-benchmark.mjs FOLDER CORPUS.jsonl [PASSES]');
    process.exit(2);
}
const passes = Number(passesArg ?? 4);
// BeirDataset.DocumentText: title and text stripped; "title. text" (or "title text" after . ? !), the text alone without a title
const texts = readFileSync(corpusPath, 'utf8').split('\n').filter((l) => l.trim().length > 0).map((l) => {
    const d = JSON.parse(l);
    const title = (d.title ?? '').trim(), text = (d.text ?? '').trim();
    if (title.length === 0) return text;
    return /[.?!]$/.test(title) ? `${title} ${text}` : `${title}. ${text}`;
});
const bytes = texts.reduce((sum, t) => sum + Buffer.byteLength(t, 'utf8'), 0);
console.log(`input: ${corpusPath}: ${texts.length} texts, ${(bytes / 1e6).toFixed(2)} MB of UTF-8; RAYON_NUM_THREADS=${process.env.RAYON_NUM_THREADS ?? '(unset)'}`);

const rate = (seconds, tokens) => `${(bytes / 1e6 / seconds).toFixed(2)} MB/s, ${Math.round(tokens / seconds).toLocaleString('en-US')} tokens/s`;
const line = (what, seconds, cpu, tokens) =>
    `${what}: ${seconds.toFixed(3)} s, ${rate(seconds, tokens)}; CPU ${cpu.toFixed(3)} s, ${rate(cpu, tokens)} (${tokens} tokens)`;

for (const mode of ['encode', 'encodeBatch']) {
    const tokenizer = Tokenizer.fromFile(path.join(folder, 'tokenizer.json'));
    let best = Infinity, bestCpu = Infinity, tokens = 0;
    for (let pass = 0; pass < passes; pass++) {
        const cpuStart = process.cpuUsage();
        const start = process.hrtime.bigint();
        let count = 0;
        if (mode === 'encode') {
            for (const text of texts) count += (await tokenizer.encode(text, null, { addSpecialTokens: false })).getIds().length;
        } else {
            for (const e of await tokenizer.encodeBatch(texts, { addSpecialTokens: false })) count += e.getIds().length;
        }
        const seconds = Number(process.hrtime.bigint() - start) / 1e9;
        const used = process.cpuUsage(cpuStart);
        const cpu = (used.user + used.system) / 1e6;
        tokens = count;
        if (pass === 0) console.log(line(`${mode} cold pass`, seconds, cpu, count));
        else {
            best = Math.min(best, seconds);
            bestCpu = Math.min(bestCpu, cpu);
        }
    }
    console.log(line(`${mode} warm (best of ${passes - 1})`, best, bestCpu, tokens));
}
