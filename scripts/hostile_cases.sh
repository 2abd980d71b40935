#!/usr/bin/env bash
# Dev-only: the hostile cases of #26 (and #8's mine case) against the CLI, one line each, PASS or FAIL.
#
#   bash scripts/hostile_cases.sh [TRAINER_DLL]
#
# Builds the CLI (Release) unless TRAINER_DLL is given (e.g. an older build, to see the cases fail there). Every
# file, FIFO, link and socket is made in a scratch folder; the machine's own /dev entries are never written (a
# character device is made with mknod when run as root, else that case is skipped). Then, unless SERVE=0, the serve
# cases (slow uploads, abandoned clients, big bodies with RSS before, during and after) run through
# `HOSTILE=only scripts/serve_load_test.sh models/tiny-mistral` on the same build (about 3 minutes; their figures are
# printed, and the case fails if that script does). Exits 1 if any case fails.
set -uo pipefail
cd "$(dirname "$0")/.."
if [[ -n ${1:-} ]]; then dll=$1; else
  dotnet build src/Trainer.Cli -c Release -v quiet -nologo >/dev/null || exit 1
  dll=src/Trainer.Cli/bin/Release/net10.0/trainer.dll
fi
dll=$(realpath "$dll")
repo=$PWD
trainer() { timeout 120 dotnet "$dll" "$@"; }
model=$PWD/models/tiny-mistral
mine_fixture=$PWD/scripts/hostile_mine.sh
work=$(mktemp -d /tmp/trainer-hostile.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT
cd "$work" # an output named "-" by an old build lands here, not in the repository
failed=0
verdict() { # NAME CONDITION...
  local name=$1; shift
  if "$@"; then echo "PASS  $name"; else echo "FAIL  $name"; failed=$((failed + 1)); fi
}

# five texts, one a query
in=$work/in.jsonl
printf '%s\n' '{"id": 1, "text": "The cat sat on the mat."}' '{"id": 2, "text": "Rivers carry sediment to the sea."}' \
  '{"id": 3, "text": "why does bread rise?", "query": true}' '{"id": 4, "text": "Stars fuse hydrogen."}' '{"id": 5, "text": "Ok."}' >"$in"
trainer tokenize --model $model --input "$in" --output "$work/reference.jsonl" 2>/dev/null
lines() { grep -c . "$1" 2>/dev/null || echo 0; }

echo "== 1. outputs: renamed over whatever the path names"
mkfifo "$work/out.fifo"
cat "$work/out.fifo" >"$work/from-fifo.jsonl" &
reader=$!
trainer tokenize --model $model --input "$in" --output "$work/out.fifo" 2>/dev/null
sleep 1; kill $reader 2>/dev/null
verdict "tokenize --output FIFO: the reader gets 5 lines and the FIFO stays a FIFO" \
  test -p "$work/out.fifo" -a "$(lines "$work/from-fifo.jsonl")" = 5
trainer tokenize --model $model --input "$in" --output - 2>/dev/null >"$work/stdout.jsonl"
verdict "tokenize --output -: 5 lines on standard output" cmp -s "$work/stdout.jsonl" "$work/reference.jsonl"
echo old >"$work/target.jsonl"; ln -s target.jsonl "$work/link.jsonl"
trainer tokenize --model $model --input "$in" --output "$work/link.jsonl" 2>/dev/null
verdict "tokenize --output SYMLINK: the link stays and its target gets the lines" \
  bash -c "test -L '$work/link.jsonl' && cmp -s '$work/target.jsonl' '$work/reference.jsonl'"
if [[ $(id -u) == 0 ]]; then
  mknod "$work/null" c 1 3
  trainer tokenize --model $model --input "$in" --output "$work/null" 2>/dev/null
  verdict "tokenize --output CHAR_DEVICE (a private /dev/null made by mknod): it stays a device" test -c "$work/null"
else
  echo "SKIP  tokenize --output CHAR_DEVICE (mknod needs root)"
fi
python3 -c "import socket,sys,time; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); time.sleep(60)" "$work/s.sock" &
sleep 1
out=$(trainer tokenize --model $model --input "$in" --output "$work/s.sock" 2>&1)
[[ -S $work/s.sock && $(wc -l <<<"$out") == 1 && $out == *'is a socket'* ]]
verdict "tokenize --output SOCKET: refused in one line, the socket stays" test $? = 0

echo "== 2. piped inputs"
rm -f -- ./- # an older build's "--output -" wrote a file by that name, which its "--input -" would read
trainer tokenize --model $model --input <(cat "$in") --output "$work/p1.jsonl" 2>/dev/null
verdict "tokenize --input <(cat in.jsonl): 5 lines" test "$(lines "$work/p1.jsonl")" = 5
cat "$in" | trainer tokenize --model $model --input /dev/stdin --output "$work/p2.jsonl" 2>/dev/null
verdict "cat in.jsonl | tokenize --input /dev/stdin: 5 lines" test "$(lines "$work/p2.jsonl")" = 5
cat "$in" | trainer embed --model $model --input - --output "$work/p3.jsonl" 2>/dev/null
verdict "cat in.jsonl | embed --input -: 5 lines" test "$(lines "$work/p3.jsonl")" = 5
out=$(: | trainer embed --model $model --input /dev/stdin --output "$work/p4.jsonl" 2>&1)
[[ $out == *'no input lines'* && ! -e $work/p4.jsonl ]]
verdict "an empty piped input is refused (no output)" test $? = 0

echo "== 3, 4 and the low items: eval"
data=$work/beir; mkdir -p "$data/qrels"
printf '%s\n' '{"_id": "d1", "title": "Bread", "text": "Yeast makes gas."}' '{"_id": "d2", "title": "", "text": "Tides follow the moon."}' >"$data/corpus.jsonl"
printf '%s\n' '{"_id": "q1", "text": "why does bread rise?"}' >"$data/queries.jsonl"
printf 'query-id\tcorpus-id\tscore\nq1\td1\t1\n' >"$data/qrels/test.tsv"
cp "$data/corpus.jsonl" "$work/corpus.before"
trainer eval --model $model --data "$data" --max-length 32 --output "$data/qrels/../corpus.jsonl" >/dev/null 2>&1
ln -s "$data/queries.jsonl" "$work/results-link.json"
trainer eval --model $model --data "$data" --max-length 32 --run "$work/results-link.json" >/dev/null 2>&1
verdict "eval --output DATA/qrels/../corpus.jsonl and --run LINK-TO-queries.jsonl: refused, inputs unchanged" \
  bash -c "cmp -s '$data/corpus.jsonl' '$work/corpus.before' && test \$(grep -c . '$data/queries.jsonl') = 1"
touch "$work/a-file"
out=$(trainer eval --model /nonexistent --data "$data" --output "$work/a-file/results.json" 2>&1)
[[ $out == *'--output'*'is a file'* ]]
verdict "eval --output in a folder that cannot exist: refused before the model is looked at" test $? = 0
printf 'q1 Q0 d1 1 2.0 bm25\n' >"$work/bm25.trec"
out=$(trainer eval --data "$data" --score-run "$work/bm25.trec" --run "$work/x.trec" 2>&1)
[[ $out == *'does not apply to --score-run'* ]]
verdict "eval --score-run with --run: refused" test $? = 0
mkdir -p "$work/empty/qrels"; : >"$work/empty/corpus.jsonl"; cp "$data/queries.jsonl" "$work/empty/"; cp "$data/qrels/test.tsv" "$work/empty/qrels/"
out=$(trainer eval --model $model --data "$work/empty" 2>&1)
[[ $out == *'no documents'* ]]
verdict "eval on an empty corpus: refused" test $? = 0

echo "== the low item: a killed embed's temporary file"
for i in $(seq 1 3000); do echo "{\"text\": \"line $i of a long input that takes a while to embed\"}"; done >"$work/long.jsonl"
dotnet "$dll" embed --model $model --input "$work/long.jsonl" --output "$work/long.out" 2>/dev/null &
victim=$!
for _ in $(seq 1 100); do ls -a "$work" | grep -q '^\.long\.out\.tmp-' && break; sleep 0.2; done
kill -9 $victim; wait $victim 2>/dev/null
left=$(ls -a "$work" | grep -c '^\.long\.out\.tmp-')
trainer tokenize --model $model --input "$in" --output "$work/long.out" 2>/dev/null
verdict "kill -9 embed left $left temporary file(s); the next run on that output removes them" \
  test "$(ls -a "$work" | grep -c '^\.long\.out\.tmp-')" = 0

echo "== 8. mine: a positive that is not in the corpus"
if [[ -f $mine_fixture ]]; then source "$mine_fixture"; else echo "SKIP  (scripts/hostile_mine.sh not present)"; fi

if [[ ${SERVE:-1} != 0 ]]; then
  echo "== 5, 6, 7: serve (scripts/serve_load_test.sh HOSTILE=only)"
  (cd "$repo" && HOSTILE=only NO_BUILD=1 TRAINER_DLL="$dll" bash scripts/serve_load_test.sh models/tiny-mistral) | sed 's/^/      /'
  verdict "serve: slow uploads, abandoned clients and big bodies (figures above)" test "${PIPESTATUS[0]}" = 0
fi

echo "verdict: $failed case(s) failed"
[[ $failed == 0 ]]
