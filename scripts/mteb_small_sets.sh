#!/usr/bin/env bash
# The README's "MTEB task types" table: a model (and optionally an adapter) on the small sets of data/mteb, one MTEB
# result file per task in OUT, then the summary by type. Instructions are off (--instruction ""), as the quickstart
# model is trained without one (64-token budget).
#   scripts/mteb_small_sets.sh OUT --model models/stories260k [--adapter checkpoints/quickstart]
set -euo pipefail
out=$1; shift
mkdir -p "$out"
trainer() { dotnet run --project src/Trainer.Cli -c Release --no-build -- "$@"; }
for entry in STSBenchmark-small:STS WordNetPairs:PairClassification WordNetRerank:Reranking WordNetCategories:Classification \
             WordNetClustering:Clustering WordNetSumm:Summarization WordNetBitext:BitextMining; do
    name=${entry%%:*}; type=${entry##*:}
    trainer eval "$@" --task "$name" --task-type "$type" --instruction "" --data "data/mteb/$name" --split test \
        --max-length 64 --batch-size 64 --output "$out/$name.json" --summary "$out" 2>/dev/null | tail -n 14 > "$out/summary.txt"
done
cat "$out/summary.txt"
