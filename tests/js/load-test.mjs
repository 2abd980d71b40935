// Load test for `trainer serve` with autocannon: CONNECTIONS clients, each posting one request after another for
// DURATION seconds, the texts taken in turn from a JSONL file ("text" of each line), INPUTS texts per request.
// Usage: node load-test.mjs --url http://127.0.0.1:8080 [--endpoint /v1/embeddings|/embed] [--connections 32]
//                           [--duration 60] [--inputs 1] --texts FILE.jsonl [--timeout 30]
// Prints one JSON line: requests (completed), requests_per_s, texts_per_s, latency_ms {p50, p90, p99, max, mean},
// errors (connection errors and timeouts), timeouts, non2xx, status_codes, duration_s. Exit code 1 when any request
// failed or got a non-2xx answer.
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';

const args = Object.fromEntries(process.argv.slice(2).reduce((pairs, a, i, all) => (a.startsWith('--') ? [...pairs, [a.slice(2), all[i + 1]]] : pairs), []));
const url = args.url;
const endpoint = args.endpoint ?? '/v1/embeddings';
const connections = Number(args.connections ?? 32);
const duration = Number(args.duration ?? 60);
const perRequest = Number(args.inputs ?? 1);
const timeout = Number(args.timeout ?? 30);
if (!url || !args.texts) {
  console.error('usage: node load-test.mjs --url URL --texts FILE.jsonl [--endpoint /v1/embeddings] [--connections 32] [--duration 60] [--inputs 1]');
  process.exit(2);
}
const texts = readFileSync(args.texts, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l).text);
if (texts.length === 0) throw new Error(`${args.texts}: no lines with "text"`);

let next = 0;
const body = () => {
  const input = Array.from({ length: perRequest }, () => texts[next++ % texts.length]);
  return JSON.stringify(endpoint === '/embed' ? { inputs: input } : { model: 'served-model', input });
};

const result = await autocannon({
  url,
  connections,
  duration,
  timeout,
  requests: [{
    method: 'POST',
    path: endpoint,
    headers: { 'content-type': 'application/json' },
    setupRequest: (request) => ({ ...request, body: body() }),
  }],
});

const completed = Object.values(result.statusCodeStats ?? {}).reduce((n, s) => n + Number(s.count), 0);
const summary = {
  url: `${url}${endpoint}`,
  connections,
  inputs_per_request: perRequest,
  duration_s: result.duration,
  requests: completed,
  requests_per_s: completed / result.duration,
  texts_per_s: (completed * perRequest) / result.duration,
  latency_ms: { p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, max: result.latency.max, mean: result.latency.average },
  errors: result.errors,
  timeouts: result.timeouts,
  non2xx: result.non2xx,
  status_codes: Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([code, s]) => [code, Number(s.count)])),
};
console.log(JSON.stringify(summary));
process.exit(result.errors === 0 && result.non2xx === 0 && completed > 0 ? 0 : 1);
