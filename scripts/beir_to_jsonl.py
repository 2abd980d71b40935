#!/usr/bin/env python3
"""BEIR folder -> Trainer training JSONL (standard library only).

Reads corpus.jsonl, queries.jsonl and qrels/<split>.tsv from a BEIR dataset folder and writes one line per
(query, relevant document) pair:

    {"query": "...", "positive": "...", "negative": "..."}

The positive is the document's title and text. With --negatives bm25 (default), the negative is the
best-scoring BM25 document (k1=0.9, b=0.4) that is not relevant to the query: a lexical hard negative, as the
e5 recipe mines them. --negatives none leaves the column out. An instruction can be written per row with
--instruction, or set once in the training config as data.default_instruction.

A FlagEmbedding JSONL ({"query", "pos": [...], "neg": [...]}) needs no conversion: Trainer reads it as is.

With --run FILE, the same BM25 is instead used as a retriever: the top --top-k documents of every query of the
split that has relevance judgments are written as a TREC run (`qid Q0 docid rank score bm25`), which
`trainer eval --score-run FILE` scores with the trainer's trec_eval-exact metrics.

Examples:
    python3 scripts/beir_to_jsonl.py --beir path/to/scifact --split train --output data/scifact/train.jsonl
    python3 scripts/beir_to_jsonl.py --beir data/scifact --split test --run checkpoints/bm25.trec
"""
import argparse
import collections
import json
import math
import re
import sys

TOKEN = re.compile(r"[a-z0-9]+")


def tokens(text):
    return TOKEN.findall(text.lower())


def doc_text(doc):
    title, text = doc.get("title", "").strip(), doc.get("text", "").strip()
    if not title:
        return text
    return f"{title} {text}" if title.endswith((".", "?", "!")) else f"{title}. {text}"


class Bm25:
    def __init__(self, docs, k1=0.9, b=0.4):
        self.ids = list(docs)
        self.k1, self.b = k1, b
        self.postings = collections.defaultdict(list)
        self.lengths = []
        for i, doc_id in enumerate(self.ids):
            counts = collections.Counter(tokens(docs[doc_id]))
            self.lengths.append(sum(counts.values()))
            for term, tf in counts.items():
                self.postings[term].append((i, tf))
        self.avg = sum(self.lengths) / max(1, len(self.lengths))
        n = len(self.ids)
        self.idf = {t: math.log(1 + (n - len(p) + 0.5) / (len(p) + 0.5)) for t, p in self.postings.items()}

    def scored(self, query):
        scores = collections.defaultdict(float)
        for term in set(tokens(query)):
            for i, tf in self.postings.get(term, ()):
                norm = tf * (self.k1 + 1) / (tf + self.k1 * (1 - self.b + self.b * self.lengths[i] / self.avg))
                scores[i] += self.idf[term] * norm
        # ties broken by document id so the output is reproducible
        return [(self.ids[i], s) for i, s in sorted(scores.items(), key=lambda kv: (-kv[1], self.ids[kv[0]]))]

    def ranked(self, query):
        return [doc_id for doc_id, _ in self.scored(query)]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--beir", required=True, help="BEIR dataset folder (corpus.jsonl, queries.jsonl, qrels/)")
    ap.add_argument("--split", default="train")
    ap.add_argument("--output", help="training JSONL to write")
    ap.add_argument("--run", help="instead: write BM25's ranking of the split's queries as a TREC run")
    ap.add_argument("--top-k", type=int, default=100, help="documents per query in --run")
    ap.add_argument("--negatives", choices=["bm25", "none"], default="bm25")
    ap.add_argument("--instruction", default=None, help="written into every row's 'instruction' column")
    args = ap.parse_args()
    if bool(args.output) == bool(args.run):
        ap.error("give exactly one of --output and --run")

    with open(f"{args.beir}/corpus.jsonl", encoding="utf-8") as f:
        corpus = {d["_id"]: doc_text(d) for d in map(json.loads, f)}
    with open(f"{args.beir}/queries.jsonl", encoding="utf-8") as f:
        queries = {q["_id"]: q["text"] for q in map(json.loads, f)}
    relevant = collections.defaultdict(list)
    with open(f"{args.beir}/qrels/{args.split}.tsv", encoding="utf-8") as f:
        next(f)  # header
        for line in f:
            qid, did, score = line.rstrip("\n").split("\t")
            if int(score) > 0 and did in corpus and qid in queries:
                relevant[qid].append(did)

    if args.run:
        bm25 = Bm25(corpus)
        with open(args.run, "w", encoding="utf-8") as out:
            for qid in sorted(relevant, key=lambda q: int(q) if q.isdigit() else q):
                for rank, (did, score) in enumerate(bm25.scored(queries[qid])[: args.top_k], start=1):
                    out.write(f"{qid} Q0 {did} {rank} {score!r} bm25\n")
        print(f"wrote the BM25 top {args.top_k} of {len(relevant)} queries to {args.run}", file=sys.stderr)
        return

    bm25 = Bm25(corpus) if args.negatives == "bm25" else None
    written = 0
    with open(args.output, "w", encoding="utf-8") as out:
        for qid in sorted(relevant, key=lambda q: int(q) if q.isdigit() else q):
            negative = None
            if bm25:
                negative = next((d for d in bm25.ranked(queries[qid]) if d not in relevant[qid]), None)
            for did in relevant[qid]:
                row = {"query": queries[qid], "positive": corpus[did]}
                if negative:
                    row["negative"] = corpus[negative]
                if args.instruction:
                    row["instruction"] = args.instruction
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
                written += 1
    print(f"wrote {written} rows for {len(relevant)} queries to {args.output}", file=sys.stderr)


if __name__ == "__main__":
    main()
