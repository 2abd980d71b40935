// Encodes texts with an exported Hugging Face tokenizer the way JavaScript stacks do, one JSON line per text.
//
//   node tokenizer-ids.mjs tokenizers   FOLDER TEXTS.jsonl OUT.jsonl   # @huggingface/tokenizers on FOLDER/tokenizer.json
//   node tokenizer-ids.mjs transformers FOLDER TEXTS.jsonl OUT.jsonl   # transformers.js AutoTokenizer, from disk only
//   node tokenizer-ids.mjs truncation   FOLDER TEXTS.jsonl OUT.jsonl   # the same, truncating at model_max_length
//
// TEXTS.jsonl holds one JSON string per line. OUT.jsonl gets, per text:
//   tokenizers:   {"ids": encode(text).ids, "decoded": decode(ids without the first and last) or null}
//   transformers: {"ids": tokenizer(text).input_ids, no truncation}
//   truncation:   {"ids": tokenizer(text, {truncation: true}).input_ids, as the feature-extraction pipeline calls it
//                          (max_length = model_max_length),
//                  "kept_eos": BOS + tokenizer(text, {add_special_tokens: false, truncation: true,
//                              max_length: model_max_length - 2}).input_ids + EOS}
import path from 'node:path';
import { readArguments, jsTokenizer, writeLines } from './ids-io.mjs';

const { mode, folder, texts, outPath } = readArguments('node tokenizer-ids.mjs tokenizers|transformers|truncation FOLDER TEXTS.jsonl OUT.jsonl');
const lines = [];

if (mode === 'tokenizers') {
    const tokenizer = await jsTokenizer(folder);
    for (const text of texts) {
        const ids = tokenizer.encode(text).ids;
        const content = ids.slice(1, -1);
        const decoded = content.length > 0 ? tokenizer.decode(content) : null;
        lines.push({ ids, decoded });
    }
} else if (mode === 'transformers' || mode === 'truncation') {
    const { AutoTokenizer, env } = await import('@huggingface/transformers');
    env.allowRemoteModels = false;
    env.allowLocalModels = true;
    env.localModelPath = path.dirname(path.resolve(folder)) + path.sep;
    const tokenizer = await AutoTokenizer.from_pretrained(path.basename(path.resolve(folder)), { local_files_only: true });
    const maxLength = tokenizer.model_max_length;
    for (const text of texts) {
        if (mode === 'transformers') {
            lines.push({ ids: tokenizer(text, { return_tensor: false }).input_ids });
            continue;
        }
        const ids = tokenizer(text, { truncation: true, return_tensor: false }).input_ids;
        const content = tokenizer(text, { add_special_tokens: false, truncation: true, max_length: maxLength - 2, return_tensor: false }).input_ids;
        lines.push({ ids, kept_eos: [tokenizer.bos_token_id, ...content, tokenizer.eos_token_id] });
    }
} else {
    console.error(`unknown mode ${mode}; expected tokenizers, transformers or truncation`);
    process.exit(2);
}

writeLines(outPath, mode, lines);
