// Encodes texts with a Hugging Face tokenizer.json, one JSON line per text, for the byte-level BPE parity tests.
//
//   node bpe-ids.mjs rust FOLDER TEXTS.jsonl OUT.jsonl   # `tokenizers` (Hugging Face's Rust library, Node binding)
//   node bpe-ids.mjs js   FOLDER TEXTS.jsonl OUT.jsonl   # @huggingface/tokenizers (its JavaScript port)
//
// FOLDER holds tokenizer.json (and tokenizer_config.json, which the JavaScript port reads). TEXTS.jsonl holds one JSON
// string per line. OUT.jsonl gets, per text: {"ids": encode without special tokens, "special": encode with them}.
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';

const [mode, folder, textsPath, outPath] = process.argv.slice(2);
if (!mode || !folder || !textsPath || !outPath) {
    console.error('usage: node bpe-ids.mjs rust|js FOLDER TEXTS.jsonl OUT.jsonl');
    process.exit(2);
}

const texts = readFileSync(textsPath, 'utf8').split('\n').filter((line) => line.length > 0).map((line) => JSON.parse(line));
const lines = [];

if (mode === 'rust') {
    const { Tokenizer } = await import('tokenizers');
    const tokenizer = Tokenizer.fromFile(path.join(folder, 'tokenizer.json'));
    for (const text of texts) {
        const ids = (await tokenizer.encode(text, null, { addSpecialTokens: false })).getIds();
        const special = (await tokenizer.encode(text, null, { addSpecialTokens: true })).getIds();
        lines.push(JSON.stringify({ ids: Array.from(ids), special: Array.from(special) }));
    }
} else if (mode === 'js') {
    const { Tokenizer } = await import('@huggingface/tokenizers');
    const json = JSON.parse(readFileSync(path.join(folder, 'tokenizer.json'), 'utf8'));
    const configPath = path.join(folder, 'tokenizer_config.json');
    const config = existsSync(configPath) ? JSON.parse(readFileSync(configPath, 'utf8')) : {};
    const tokenizer = new Tokenizer(json, config);
    for (const text of texts) {
        const ids = tokenizer.encode(text, { add_special_tokens: false }).ids;
        const special = tokenizer.encode(text, { add_special_tokens: true }).ids;
        lines.push(JSON.stringify({ ids, special }));
    }
} else {
    console.error(`unknown mode ${mode}; expected rust or js`);
    process.exit(2);
}

writeFileSync(outPath, lines.join('\n') + '\n');
console.log(`${mode}: ${texts.length} texts`);
