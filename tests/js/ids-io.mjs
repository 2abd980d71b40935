// What bpe-ids.mjs and tokenizer-ids.mjs share: their arguments, the texts they read, @huggingface/tokenizers loaded
// from a folder, and the JSON lines they write.
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';

/** MODE FOLDER TEXTS.jsonl OUT.jsonl from the command line, and the texts (one JSON string per line). */
export function readArguments(usage) {
    const [mode, folder, textsPath, outPath] = process.argv.slice(2);
    if (!mode || !folder || !textsPath || !outPath) {
        console.error(`usage: ${usage}`);
        process.exit(2);
    }
    const texts = readFileSync(textsPath, 'utf8').split('\n').filter((line) => line.length > 0).map((line) => JSON.parse(line));
    return { mode, folder, texts, outPath };
}

/** @huggingface/tokenizers on FOLDER/tokenizer.json, with FOLDER/tokenizer_config.json when there is one. */
export async function jsTokenizer(folder) {
    const { Tokenizer } = await import('@huggingface/tokenizers');
    const json = JSON.parse(readFileSync(path.join(folder, 'tokenizer.json'), 'utf8'));
    const configPath = path.join(folder, 'tokenizer_config.json');
    const config = existsSync(configPath) ? JSON.parse(readFileSync(configPath, 'utf8')) : {};
    return new Tokenizer(json, config);
}

/** Writes one JSON line per object and reports the count. */
export function writeLines(outPath, mode, lines) {
    writeFileSync(outPath, lines.map((line) => JSON.stringify(line)).join('\n') + '\n');
    console.log(`${mode}: ${lines.length} texts`);
}
