#!/usr/bin/env bash
# Dev-only load test of `trainer serve` (CI runs a 3-second version: tests/Trainer.Tests/Serving/ServingLoadTests.cs).
#
#   scripts/serve_load_test.sh EXPORT_DIR [TEXTS.jsonl] [-- extra trainer serve options]
#
# Builds the CLI (Release), starts `trainer serve --model EXPORT_DIR`, warms it up for 5 s, then runs autocannon
# (tests/js/load-test.mjs) with CONNECTIONS clients for DURATION seconds, each request carrying INPUTS texts taken in
# turn from TEXTS.jsonl ("text" per line; default: SciFact's 5,183 abstracts, title + text). It prints requests/s,
# texts/s, p50/p90/p99 latency, errors and non-2xx answers, the server's own counters (model calls, mean batch), stops the
# server with SIGTERM (exit code must be 0), and finally times `trainer embed` on the same texts with the same
# max_length (the server's, from /health), for comparison. The load average is printed before and after.
#
# HOSTILE=1 then runs three hostile cases (scripts/serve_hostile_clients.py), each against a fresh server: ten slow
# uploads beside normal requests with --max-concurrent-requests 8 (slow-upload), ten 512-input requests whose clients
# hang up at once, then a real one (abandoned), and 16 concurrent 28 MB then 12 MB bodies with the server's RSS before,
# at its peak and after (big-body). HOSTILE=only runs just those (no load test, no trainer embed).
#
# Environment: CONNECTIONS (32), DURATION (60), INPUTS (1), ENDPOINT (/v1/embeddings or /embed), PORT (18080),
# ENGINE (torch or onnx), EMBED_BATCH (16, trainer embed's --batch-size), THREADS (CPU threads per model call: the
# server's --threads and trainer embed's OMP_NUM_THREADS; default: the libraries'), NO_BUILD=1 to skip the build,
# TRAINER_DLL (another build's trainer.dll, to compare: with NO_BUILD=1).
# Needs node (tests/js/node_modules installed: `npm ci` there, or any `dotnet test`), curl and python3.
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:?usage: scripts/serve_load_test.sh EXPORT_DIR [TEXTS.jsonl] [-- serve options]}
shift
texts=""
if [[ $# -gt 0 && $1 != "--" ]]; then texts=$1; shift; fi
[[ ${1:-} == "--" ]] && shift
connections=${CONNECTIONS:-32} duration=${DURATION:-60} inputs=${INPUTS:-1} endpoint=${ENDPOINT:-/v1/embeddings}
port=${PORT:-18080} engine=${ENGINE:-torch} embed_batch=${EMBED_BATCH:-16} threads=${THREADS:-}
work=$(mktemp -d)
trap 'if [[ -n ${server:-} ]]; then kill "$server" 2>/dev/null; fi; rm -rf "$work"' EXIT  # never kill 0: that is the whole process group, a calling script included

if [[ -z $texts ]]; then
  texts=$work/scifact-abstracts.jsonl
  python3 - data/scifact/corpus.jsonl "$texts" <<'EOF'
import json, sys
with open(sys.argv[1], encoding="utf-8") as src, open(sys.argv[2], "w", encoding="utf-8") as dst:
    for line in src:
        doc = json.loads(line)
        text = (doc.get("title", "") + " " + doc.get("text", "")).strip()
        if text:
            dst.write(json.dumps({"text": text}) + "\n")
EOF
fi
count=$(grep -c . "$texts")

[[ ${NO_BUILD:-0} == 1 ]] || dotnet build src/Trainer.Cli -c Release -v quiet -nologo | grep -v "^$" || true
trainer=(dotnet "${TRAINER_DLL:-src/Trainer.Cli/bin/Release/net10.0/trainer.dll}")

thread_option=() embed_env=()
if [[ -n $threads ]]; then thread_option=(--threads "$threads"); embed_env=(env "OMP_NUM_THREADS=$threads"); fi

start_server() {  # extra serve options as arguments
  rm -f "$work/health.json"
  "${trainer[@]}" serve --model "$model" --port "$port" --engine "$engine" "${thread_option[@]}" "$@" 2>"$work/serve.log" &
  server=$!
  for _ in $(seq 240); do curl -sf "http://127.0.0.1:$port/health" >"$work/health.json" && break; sleep 0.5; done
  [[ -s $work/health.json ]] || { cat "$work/serve.log"; echo "the server did not start" >&2; exit 1; }
  cat "$work/serve.log"
}
stop_server() {
  kill -TERM "$server"
  wait "$server" && echo "server stopped on SIGTERM with exit code 0" || { echo "server exit code $?" >&2; status=1; }
  tail -1 "$work/serve.log"
  server=""
}
hostile() {  # CASE [serve options]
  local name=$1; shift
  echo "== hostile case $name: trainer serve ${*:-(defaults)} $extra_options"
  start_server "$@" "${extra[@]}"
  python3 scripts/serve_hostile_clients.py "$name" --port "$port" --pid "$server" --texts "$texts" || status=1
  stop_server
}
extra=("$@") extra_options="$*"
status=0

echo "== $(date -u +%FT%TZ) on $(nproc) cores; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
if [[ ${HOSTILE:-0} == only ]]; then
  hostile slow-upload --max-concurrent-requests 8
  hostile abandoned
  hostile big-body
  echo "== load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
  exit "$status"
fi
start_server "$@"
max_length=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["max_input_tokens"])' "$work/health.json")

load() { node tests/js/load-test.mjs --url "http://127.0.0.1:$port" --endpoint "$endpoint" --connections "$connections" --inputs "$inputs" --texts "$texts" --duration "$1"; }
load 5 >/dev/null || true   # warm-up (JIT, first allocations), not counted
before=$(curl -sf "http://127.0.0.1:$port/metrics")
echo "== load: $connections connections × $duration s, $inputs text(s) per request to $endpoint, $count texts in turn (max_length $max_length)"
summary=$(load "$duration") || status=$?
after=$(curl -sf "http://127.0.0.1:$port/metrics")
python3 - "$summary" "$before" "$after" <<'EOF'
import json, sys
s = json.loads(sys.argv[1])
def counters(text):
    return {l.split()[0]: float(l.split()[1]) for l in text.splitlines() if l and not l.startswith("#") and "{" not in l}
b, a = counters(sys.argv[2]), counters(sys.argv[3])
d = lambda k: a[k] - b[k]
lat = s["latency_ms"]
print(f"requests {s['requests']} in {s['duration_s']:.1f} s: {s['requests_per_s']:.1f} requests/s, {s['texts_per_s']:.1f} texts/s")
print(f"latency ms: p50 {lat['p50']}, p90 {lat['p90']}, p99 {lat['p99']}, max {lat['max']}, mean {lat['mean']:.1f}")
print(f"errors {s['errors']}, timeouts {s['timeouts']}, non-2xx {s['non2xx']}; status codes {s['status_codes']}")
batches = d("trainer_serve_batches_total")
inputs = d("trainer_serve_inputs_total")
print(f"server: {inputs:.0f} inputs in {batches:.0f} model calls (mean batch {inputs / max(batches, 1):.1f}), "
      f"model busy {d('trainer_serve_inference_seconds_total'):.1f} s, padding {100 * (1 - d('trainer_serve_tokens_total') / max(d('trainer_serve_padded_tokens_total'), 1)):.1f}% of tokens run")
EOF
echo "== load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
stop_server
if [[ ${HOSTILE:-0} == 1 ]]; then
  hostile slow-upload --max-concurrent-requests 8
  hostile abandoned
  hostile big-body
fi

echo "== ${embed_env[*]} trainer embed --model $model --max-length $max_length --batch-size $embed_batch on the same $count texts"
start=$(date +%s.%N)
"${embed_env[@]}" "${trainer[@]}" embed --model "$model" --input "$texts" --output "$work/embeddings.jsonl" --max-length "$max_length" --batch-size "$embed_batch" 2>"$work/embed.log"
end=$(date +%s.%N)
tail -1 "$work/embed.log"
python3 -c "import sys; n, t = int(sys.argv[1]), float(sys.argv[3]) - float(sys.argv[2]); print(f'trainer embed: {n} texts in {t:.1f} s wall (process start and model load included): {n / t:.1f} texts/s')" "$count" "$start" "$end"
echo "== load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
exit "$status"
