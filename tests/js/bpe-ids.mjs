// Encodes texts with a Hugging Face tokenizer.json, one JSON line per text, for the byte-level BPE parity tests.
//
//   node bpe-ids.mjs rust FOLDER TEXTS.jsonl OUT.jsonl   # `tokenizers` (Hugging Face's Rust library, Node binding)
//   node bpe-ids.mjs js   FOLDER TEXTS.jsonl OUT.jsonl   # @huggingface/tokenizers (its JavaScript port)
//
// FOLDER holds tokenizer.json (and tokenizer_config.json, which the JavaScript port reads). TEXTS.jsonl holds one JSON
// string per line. OUT.jsonl gets, per text: {"ids": encode without special tokens, "special": encode with them}.
import path from 'node:path';
import { readArguments, jsTokenizer, writeLines } from './ids-io.mjs';

const { mode, folder, texts, outPath } = readArguments('node bpe-ids.mjs rust|js FOLDER TEXTS.jsonl OUT.jsonl');
const lines = [];

if (mode === 'rust') {
    const { Tokenizer } = await import('tokenizers');
    const tokenizer = Tokenizer.fromFile(path.join(folder, 'tokenizer.json'));
    for (const text of texts) {
        const ids = (await tokenizer.encode(text, null, { addSpecialTokens: false })).getIds();
        const special = (await tokenizer.encode(text, null, { addSpecialTokens: true })).getIds();
        lines.push({ ids: Array.from(ids), special: Array.from(special) });
    }
} else if (mode === 'js') {
    const tokenizer = await jsTokenizer(folder);
    for (const text of texts) {
        const ids = tokenizer.encode(text, { add_special_tokens: false }).ids;
        const special = tokenizer.encode(text, { add_special_tokens: true }).ids;
        lines.push({ ids, special });
    }
} else {
    console.error(`unknown mode ${mode}; expected rust or js`);
    process.exit(2);
}

writeLines(outPath, mode, lines);
