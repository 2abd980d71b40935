#!/usr/bin/env bash
# Interop check: what `trainer` trains and exports, loaded by the Python stacks users serve with.
#
# For each shipped fixture model (tiny-mistral: no key prefix; stories260k: the `model.` prefix of
# MistralForCausalLM) it trains a short LoRA run, exports it (ONNX + safetensors), embeds the same texts with
# `trainer embed` (the reference), then runs check_stacks.py: sentence-transformers (prompt_name="query"),
# transformers AutoModel + AutoTokenizer, PEFT into AutoModel on the base checkpoint, and onnxruntime.
#
# Needs: a trainer build and python3 with torch, transformers, peft, sentence-transformers, onnxruntime.
#   bash tests/interop/run.sh                       # trainer = the Release build in src/Trainer.Cli/bin
#   TRAINER="bash .gpu/run.sh trainer.dll" bash tests/interop/run.sh OUT   # on the GPU machine (scripts/gpu)
# Exit status 0 only when every comparison passes. Dev-only: never part of the build or the test suite.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-/tmp/trainer-interop}
trainer=${TRAINER:-"dotnet src/Trainer.Cli/bin/Release/net10.0/trainer.dll"}
python=${PYTHON:-python3}
mkdir -p "$out"

for model in tiny-mistral stories260k; do
  dir="$out/$model"
  rm -rf "$dir" && mkdir -p "$dir"
  $trainer train --config tests/interop/interop.yaml --set "model.path=$PWD/models/$model" \
    --set "output_dir=$dir/run" --overwrite > "$dir/train.log" 2>&1
  $trainer export --checkpoint "$dir/run" --format onnx --format safetensors --output "$dir/export" \
    > "$dir/export.log" 2>&1
  $python tests/interop/check_stacks.py texts --export "$dir/export" --output "$dir/texts.jsonl"
  $trainer embed --model "models/$model" --adapter "$dir/run" --input "$dir/texts.jsonl" \
    --output "$dir/trainer.jsonl" > "$dir/embed.log" 2>&1
  $trainer embed --model "models/$model" --input "$dir/texts.jsonl" --max-length 64 \
    --output "$dir/base.jsonl" > "$dir/embed-base.log" 2>&1
done

$python tests/interop/check_stacks.py check --root "$out" --models tiny-mistral stories260k
