// Embeds texts with transformers.js from an export folder on disk, as a JavaScript user would, and writes what it got.
//   node transformers-embed.mjs EXPORT_DIR INPUT.json OUTPUT.json
// INPUT: {"queries": [text, ...], "documents": [text, ...]}. Queries get the "query" prompt of the export's
// config_sentence_transformers.json, documents none. OUTPUT, one row per text (queries first):
//   pipeline_batch   feature-extraction pipeline on all texts at once, pooling "last_token", normalize true
//   pipeline_single  the same pipeline, one text per call
//   model_output     AutoModel + AutoTokenizer on all texts at once, the model's own sentence_embedding output
//   input_ids        the ids transformers.js' tokenizer fed the model (padding: true, truncation: true), padding left out
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { AutoModel, AutoTokenizer, env, pipeline } from "@huggingface/transformers";

const [dir, inputPath, outputPath] = process.argv.slice(2);
env.allowRemoteModels = false; // from disk only: no request leaves the machine
env.allowLocalModels = true;

const input = JSON.parse(readFileSync(inputPath, "utf8"));
const prompts = JSON.parse(readFileSync(path.join(dir, "config_sentence_transformers.json"), "utf8")).prompts;
const texts = [...input.queries.map((q) => prompts.query + q), ...input.documents];

const extractor = await pipeline("feature-extraction", dir, { local_files_only: true });
const pipelineBatch = (await extractor(texts, { pooling: "last_token", normalize: true })).tolist();
const pipelineSingle = [];
for (const text of texts) pipelineSingle.push((await extractor(text, { pooling: "last_token", normalize: true })).tolist()[0]);

const tokenizer = await AutoTokenizer.from_pretrained(dir, { local_files_only: true });
const model = await AutoModel.from_pretrained(dir, { local_files_only: true });
const inputs = tokenizer(texts, { padding: true, truncation: true });
const { sentence_embedding } = await model(inputs);
const mask = inputs.attention_mask.tolist();
const inputIds = inputs.input_ids.tolist().map((row, b) => row.filter((_, s) => mask[b][s] === 1n).map(Number));

writeFileSync(outputPath, JSON.stringify({
    pipeline_batch: pipelineBatch,
    pipeline_single: pipelineSingle,
    model_output: sentence_embedding.tolist(),
    input_ids: inputIds,
}));
