// Drives `trainer serve` with the official `openai` npm client, as an OpenAI user would (baseURL pointed at the server).
// Usage: node openai-embeddings.mjs BASE_URL TEXTS.json
//   TEXTS.json: {"documents": [...], "queries": [...], "instruction": "..."}
// Prints one JSON object: the vectors the client hands back for
//   documents          the client's default request (it asks for base64 and decodes it to numbers),
//   documents_float    encoding_format "float",
//   queries            the same texts with input_type "query" (the server's default instruction),
//   queries_instruction  with an explicit instruction,
// plus usage and model of the first response, the encoding_format of each request sent, and the error the client
// raises for an empty input.
import { readFileSync } from 'node:fs';
import OpenAI from 'openai';

const [baseURL, textsPath] = process.argv.slice(2);
const texts = JSON.parse(readFileSync(textsPath, 'utf8'));
// Records what went over the wire, to show which encoding the client asked for.
const sent = [];
const recordingFetch = async (url, init) => {
  sent.push(JSON.parse(init.body).encoding_format ?? null);
  return fetch(url, init);
};
const client = new OpenAI({ baseURL: `${baseURL.replace(/\/$/, '')}/v1`, apiKey: 'not-needed', maxRetries: 0, fetch: recordingFetch });
const model = 'served-model';

const vectors = (response) => response.data.sort((a, b) => a.index - b.index).map((d) => Array.from(d.embedding));

const documents = await client.embeddings.create({ model, input: texts.documents });
const documentsFloat = await client.embeddings.create({ model, input: texts.documents, encoding_format: 'float' });
const queries = await client.embeddings.create({ model, input: texts.queries, input_type: 'query' });
const queriesInstruction = await client.embeddings.create({ model, input: texts.queries, instruction: texts.instruction });
const single = await client.embeddings.create({ model, input: texts.documents[0] });

let error = null;
try {
  await client.embeddings.create({ model, input: [] });
} catch (e) {
  error = { class: e.constructor.name, status: e.status, code: e.code ?? null, type: e.type ?? null, message: e.error?.message ?? e.message };
}

console.log(JSON.stringify({
  object: documents.object,
  model: documents.model,
  usage: documents.usage,
  wire_encoding_formats: sent,
  documents: vectors(documents),
  documents_float: vectors(documentsFloat),
  queries: vectors(queries),
  queries_instruction: vectors(queriesInstruction),
  single: vectors(single),
  error,
}));
