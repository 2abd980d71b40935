#!/usr/bin/python3
"""Writes the small MTEB-style sets of data/mteb/ (the README's table) from two public datasets, deterministically.

    /usr/bin/python3 scripts/make_mteb_sets.py [--stsbenchmark DIR] [--wordnet FILE]

Inputs (defaults: the shared offline copies under /work/shared/assets/data):
- STS Benchmark (sts-train.csv, sts-test.csv: genre, file, year, id, score, sentence1, sentence2). Only the rows whose
  text is under CC BY-SA (the "images" captions of PASCAL VOC-2008 and the "track5.en-en" SNLI pairs) are used.
- wordnet_gloss_triples.jsonl: one row per WordNet 3.0 synset, {"query": gloss, "positive": lemma, "negative": a
  sibling's or another sense's lemma, "synset": POS letter + offset}.

Outputs, in MTEB's hub layouts (docs/evaluation.md lists the columns):
- STSBenchmark-small/test.jsonl: the CC BY-SA STS Benchmark test pairs as they are (sentence1, sentence2, score).
- WordNetPairs/test.jsonl (PairClassification): gloss vs its own lemma (1) or the row's negative lemma (0).
- WordNetRerank/test.jsonl (Reranking): gloss → [its lemma] vs [the negative lemma + 4 random lemmas].
- WordNetCategories/{train,test}.jsonl (Classification) and WordNetClustering/test.jsonl (Clustering): glosses labelled
  by a keyword rule (person / plant / animal / genus / verb, below): the label can be read off the gloss's words.
- WordNetSumm/test.jsonl (Summarization-like): human summary "lemma: gloss"; machine summaries with graded relevance:
  the whole gloss (4), its first two thirds (3), its first third (2), the negative lemma's gloss (1), a random gloss (0).
- WordNetBitext/test.jsonl (BitextMining-like): lemma ↔ gloss, as if a "translation".
"""
import argparse
import csv
import json
import os
import random

parser = argparse.ArgumentParser()
parser.add_argument("--stsbenchmark", default="/work/shared/assets/data/stsbenchmark")
parser.add_argument("--wordnet", default="/work/shared/assets/data/wordnet/wordnet_gloss_triples.jsonl")
parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "data", "mteb"))
args = parser.parse_args()


def write(name, split, rows):
    folder = os.path.join(args.out, name)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, split + ".jsonl"), "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{name}/{split}.jsonl: {len(rows)} rows")


# ---- STS ----
rows = []
with open(os.path.join(args.stsbenchmark, "sts-test.csv"), encoding="utf-8") as f:
    for line in f:
        cells = line.rstrip("\n").split("\t")
        if cells[1] in ("images", "track5.en-en"):
            rows.append({"sentence1": cells[5], "sentence2": cells[6], "score": float(cells[4])})
write("STSBenchmark-small", "test", rows)

# ---- WordNet ----
wordnet = [json.loads(line) for line in open(args.wordnet, encoding="utf-8")]
by_lemma = {}
for r in wordnet:
    by_lemma.setdefault(r["positive"], r)
rng = random.Random(0)
sample = rng.sample(wordnet, 600)


def category(r):
    gloss = r["query"].lower()
    if r["synset"].startswith("v"):
        return "verb"
    if gloss.startswith(("genus of", "a genus of")):
        return "genus"
    if gloss.startswith(("a person who", "someone who", "a person")):
        return "person"
    words = set(gloss.replace(",", " ").replace(";", " ").split())
    if "genus" in words:
        return None
    if words & {"tree", "shrub", "herb", "plant", "vine", "shrubs", "trees", "herbs", "plants"}:
        return "plant"
    if words & {"bird", "fish", "mammal", "insect", "snake", "lizard", "frog", "beetle", "moth", "butterfly", "birds", "fishes"}:
        return "animal"
    return None


pairs = []
for r in sample[:200]:
    pairs.append({"sentence1": r["query"], "sentence2": r["positive"], "labels": 1})
    pairs.append({"sentence1": r["query"], "sentence2": r["negative"], "labels": 0})
write("WordNetPairs", "test", pairs)

lemmas = sorted(by_lemma)
rerank = []
for r in sample[200:300]:
    others = [l for l in rng.sample(lemmas, 8) if l not in (r["positive"], r["negative"])][:4]
    rerank.append({"query": r["query"], "positive": [r["positive"]], "negative": [r["negative"]] + others})
write("WordNetRerank", "test", rerank)

labelled = {}
shuffled = wordnet[:]
rng.shuffle(shuffled)
for r in shuffled:
    c = category(r)
    if c is not None and len(labelled.setdefault(c, [])) < 150:
        labelled[c].append(r)
names = sorted(labelled)
train = [{"text": r["query"], "label": names.index(c)} for c in names for r in labelled[c][:100]]
test = [{"text": r["query"], "label": names.index(c)} for c in names for r in labelled[c][100:150]]
write("WordNetCategories", "train", train)
write("WordNetCategories", "test", test)
clusters = []
for s in range(2):  # two clustering sets of 25 glosses per category, as MTEB's files hold several sets
    chosen = [(r["query"], c) for c in names for r in labelled[c][100 + 25 * s:125 + 25 * s]]
    clusters.append({"sentences": [t for t, _ in chosen], "labels": [c for _, c in chosen]})
write("WordNetClustering", "test", clusters)

summ = []
for r in sample[300:400]:
    words = r["query"].split()
    if len(words) < 6 or r["negative"] not in by_lemma:
        continue
    other = rng.choice(wordnet)["query"]
    summ.append({"text": r["query"], "human_summaries": [f'{r["positive"]}: {r["query"]}'],
                 "machine_summaries": [r["query"], " ".join(words[: len(words) * 2 // 3]), " ".join(words[: len(words) // 3]), by_lemma[r["negative"]]["query"], other],
                 "relevance": [4.0, 3.0, 2.0, 1.0, 0.0]})
write("WordNetSumm", "test", summ)

write("WordNetBitext", "test", [{"sentence1": r["positive"], "sentence2": r["query"]} for r in sample[400:600]])
