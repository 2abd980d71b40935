# Sourced by scripts/hostile_cases.sh (it defines trainer, verdict, $model and $work): #26's point 8.
# Seven rows whose positive is in the corpus, four of them written "title\ntext" while the corpus joins "title. text",
# and one row whose positive is nowhere in the corpus: none may get its own document as a negative, and the missing
# one is named. The guards refuse out-of-range values.
m=$work/mine; mkdir -p "$m"
python3 - "$m" <<'PY'
import json, sys
d = sys.argv[1]
docs = [(f"d{i}", f"Study {i} of cells", f"Finding {i}: genes respond in {i + 2} trials.") for i in range(12)]
with open(f"{d}/corpus.jsonl", "w") as f:
    for i, t, x in docs: f.write(json.dumps({"_id": i, "title": t, "text": x}) + "\n")
with open(f"{d}/train.jsonl", "w") as f:
    for k in range(7):
        _, t, x = docs[k]
        f.write(json.dumps({"query": f"What did study {k} find?", "pos": [f"{t}\n{x}" if k < 4 else f"{t}. {x}"]}) + "\n")
    f.write(json.dumps({"query": "What did study 99 find?", "pos": ["Study 99 was never published."]}) + "\n")
PY
trainer mine --model "$model" --input "$m/train.jsonl" --corpus "$m/corpus.jsonl" --output "$m/mined.jsonl" --range 0-11 --negatives 11 --max-length 64 2>"$m/log"
own=$(python3 - "$m" <<'PY'
import json, sys
own = lambda p: " ".join(p.replace("\n", ". ").split())
rows = [json.loads(l) for l in open(f"{sys.argv[1]}/mined.jsonl")]
print(sum(any(" ".join(x.split()) == own(r["pos"][0]) for x in r["neg"]) for r in rows[:7]))
PY
)
verdict "mine: $own of 7 rows got their own document as a negative (want 0)" test "$own" = 0
verdict "mine: the positive missing from the corpus is counted and named with file:line" \
  grep -qF "$m/train.jsonl:8: \"Study 99 was never published.\"" "$m/log"
for bad in "--absolute-margin 3" "--relative-margin 1.5" "--max-score 2"; do
  out=$(trainer mine --model "$model" --input "$m/train.jsonl" --corpus "$m/corpus.jsonl" --output "$m/bad.jsonl" $bad 2>&1)
  [[ $(wc -l <<<"$out") == 1 && ! -e $m/bad.jsonl ]]
  verdict "mine $bad: refused in one line, nothing written" test $? = 0
done
