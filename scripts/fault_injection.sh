#!/usr/bin/env bash
# Dev-only fault injection: kill -9 the trainer at random moments during training and export, resume or rerun
# after each kill, and check that the final adapter and export are bitwise equal to an uninterrupted run's.
#
#   bash scripts/fault_injection.sh [KILLS_DURING_TRAIN] [KILLS_DURING_EXPORT] [SEED]
#
# Defaults: 15 kills during training, 6 during export, seed 1. Uses the quickstart model (stories260k) and data,
# 400 steps with a checkpoint every 10 steps, so each kill lands in a different phase: start-up,
# a training step, a checkpoint write, the export's writing or its verification. Prints one line per kill and
# a verdict; exits 1 if any file differs.
set -euo pipefail
cd "$(dirname "$0")/.."
train_kills=${1:-15}
export_kills=${2:-6}
RANDOM=${3:-1}

dotnet build src/Trainer.Cli -c Release -v quiet -nologo >/dev/null
trainer=(dotnet src/Trainer.Cli/bin/Release/net10.0/trainer.dll)
work=$(mktemp -d /tmp/trainer-faults.XXXXXX)
settings=(--set training.max_steps=400 --set checkpoint.every_steps=10 --set checkpoint.keep_last=2 --set training.log_every_steps=1)
echo "work folder: $work"

train_args() { echo train --config configs/quickstart.yaml --set "output_dir=$1" "${settings[@]}" "${@:2}"; }
export_args() { echo export --checkpoint "$1" --format safetensors --format onnx --output "$2" "${@:3}"; }
train() { "${trainer[@]}" $(train_args "$@"); }
export_model() { "${trainer[@]}" $(export_args "$@"); }

# Starts the trainer with the given arguments (the dotnet process itself, so that the kill reaches it) and
# kill -9s it after a random delay in [min_ms, max_ms); prints what it was doing.
kill_at_random() {
  local min_ms=$1 max_ms=$2
  shift 2
  local delay_ms=$((min_ms + (RANDOM * 32768 + RANDOM) % (max_ms - min_ms)))
  "${trainer[@]}" "$@" >"$work/last.log" 2>&1 &
  local pid=$!
  sleep "$(printf '%d.%03d' $((delay_ms / 1000)) $((delay_ms % 1000)))"
  if kill -9 "$pid" 2>/dev/null; then
    wait "$pid" 2>/dev/null || true
    echo "killed after ${delay_ms} ms; last line: $(tail -1 "$work/last.log" | cut -c1-90)"
  else
    local rc=0
    wait "$pid" || rc=$?
    echo "finished (rc $rc) before the kill at ${delay_ms} ms; last line: $(tail -1 "$work/last.log" | cut -c1-90)"
  fi
}

echo "== reference: uninterrupted train and export"
train "$work/straight" --overwrite >"$work/straight.log"
export_model "$work/straight" "$work/straight-export" >"$work/straight-export.log"

echo "== $train_kills kills during training"
run="$work/faulty"
for ((i = 1; i <= train_kills; i++)); do
  printf 'train kill %2d: ' "$i"
  if [[ -d "$run" ]] && ls "$run" | grep -q '^checkpoint-'; then mode=--resume; else mode=--overwrite; fi
  kill_at_random 1500 12000 $(train_args "$run" "$mode")
done
echo "== finishing the run"
train "$run" --resume >"$work/finish.log" 2>&1 || train "$run" --overwrite >"$work/finish.log" 2>&1
tail -1 "$work/finish.log"

echo "== $export_kills kills during export"
for ((i = 1; i <= export_kills; i++)); do
  printf 'export kill %2d: ' "$i"
  kill_at_random 1000 7000 $(export_args "$run" "$work/faulty-export" --overwrite)
done
export_model "$run" "$work/faulty-export" --overwrite >"$work/export.log"

echo "== comparison"
status=0
compare() {
  if cmp -s "$1" "$2"; then echo "identical: ${1#"$work"/}"; else echo "DIFFERENT: $1 $2"; status=1; fi
}
compare "$work/straight/checkpoint-400/adapter_model.safetensors" "$run/checkpoint-400/adapter_model.safetensors"
for f in model.safetensors model.onnx config.json embedding_config.json tokenizer.model; do
  compare "$work/straight-export/$f" "$work/faulty-export/$f"
done
# Each step logged exactly once, with the uninterrupted run's loss bits.
if diff <(grep -o '"step":[0-9]*,"epoch":[0-9]*,"loss":[^,]*' "$work/straight/metrics.jsonl") \
        <(grep -o '"step":[0-9]*,"epoch":[0-9]*,"loss":[^,]*' "$run/metrics.jsonl") >/dev/null; then
  echo "identical: metrics.jsonl steps and losses"
else
  echo "DIFFERENT: metrics.jsonl steps or losses"
  status=1
fi
leftovers=$(find "$work" -maxdepth 1 -name '.*tmp-export*' | wc -l)
echo "staging folders left beside the exports: $leftovers"
[[ $status -eq 0 ]] && echo "verdict: bitwise equal after $train_kills + $export_kills kills" || echo "verdict: FAILED"
exit $status
