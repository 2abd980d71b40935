#!/usr/bin/python3
"""Independent reference for the MTEB task-type scores (tests/Trainer.Tests/Evaluation/Mteb).

Builds small hand-made sets, one per MTEB task type, each as hub rows plus a fixed embedding for every text (the tests
feed these vectors to the C# evaluators through a fake encoder), and scores them the way MTEB's evaluators define the
scores, written from the definitions with numpy and torch only (no scipy or scikit-learn on this machine):

- Spearman with average ranks for ties (scipy.stats.spearmanr): ranks from a brute-force count, Pearson of the ranks.
- Average precision (sklearn.metrics.average_precision_score): precision and recall at every distinct score used as a
  threshold, sum of (R_n - R_{n-1}) * P_n, by brute force over thresholds.
- Best accuracy / F1 over midpoint thresholds (MTEB's PairClassificationEvaluator): every cut of the sorted list tried.
- V-measure (sklearn.metrics.v_measure_score): from the contingency table's entropies.
- Logistic regression (sklearn LogisticRegression, lbfgs, C=1): torch.optim.LBFGS with a strong-Wolfe line search on
  the same objective, run to convergence (500 iterations); accuracy and macro/weighted F1 on the test rows.
- Weighted F1 (sklearn f1_score average='weighted') for bitext mining, per label from its counts.

Vectors are rounded to float32 so that the C# side (float32 embeddings, float64 arithmetic) sees the same numbers.
Run: /usr/bin/python3 tests/reference/mteb_reference.py  (writes tests/Trainer.Tests/Fixtures/mteb/handmade.json)
"""
import json
import math
import os

import numpy as np
import torch

rng = np.random.default_rng(20261206)
vectors = {}


def vec(text, v):
    v = np.asarray(v, dtype=np.float32).astype(np.float64)
    vectors[text] = v
    return text


def unit(v):
    return v / np.linalg.norm(v)


def ranks(x):
    x = np.asarray(x, dtype=np.float64)
    # rank = 1 + (number of smaller values) + (number of equal values - 1) / 2
    return np.array([1 + np.sum(x < a) + (np.sum(x == a) - 1) / 2 for a in x])


def pearson(x, y):
    x, y = np.asarray(x, float), np.asarray(y, float)
    dx, dy = x - x.mean(), y - y.mean()
    return float(np.sum(dx * dy) / math.sqrt(np.sum(dx * dx) * np.sum(dy * dy)))


def spearman(x, y):
    return pearson(ranks(x), ranks(y))


def cos(a, b):
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


def average_precision(relevant, scores):
    relevant, scores = np.asarray(relevant, bool), np.asarray(scores, float)
    ap, prev_recall = 0.0, 0.0
    for t in sorted(set(scores.tolist()), reverse=True):
        chosen = scores >= t
        tp = np.sum(chosen & relevant)
        precision, recall = tp / np.sum(chosen), tp / np.sum(relevant)
        ap += (recall - prev_recall) * precision
        prev_recall = recall
    return float(ap)


def best_thresholds(scores, labels, higher):
    order = sorted(range(len(scores)), key=lambda i: scores[i], reverse=higher)  # stable, as MTEB's sorted()
    s = [scores[i] for i in order]
    l = [labels[i] for i in order]
    n, best_acc, acc_thr = len(s), 0.0, -1.0
    best = (0.0, 0.0, 0.0, 0.0)
    for cut in range(1, n):  # the first `cut` rows are called similar
        predicted = [1] * cut + [0] * (n - cut)
        acc = sum(p == y for p, y in zip(predicted, l)) / n
        if acc > best_acc:
            best_acc, acc_thr = acc, (s[cut - 1] + s[cut]) / 2
        tp = sum(l[:cut])
        if tp > 0:
            p, r = tp / cut, tp / sum(l)
            f1 = 2 * p * r / (p + r)
            if f1 > best[0]:
                best = (f1, p, r, (s[cut - 1] + s[cut]) / 2)
    return {"accuracy": best_acc, "accuracy_threshold": acc_thr, "f1": best[0], "precision": best[1], "recall": best[2], "f1_threshold": best[3]}


def v_measure(truth, predicted):
    classes, clusters = sorted(set(truth)), sorted(set(predicted))
    table = np.array([[sum(1 for t, p in zip(truth, predicted) if t == c and p == k) for k in clusters] for c in classes], float)
    n = table.sum()

    def entropy(counts):
        p = counts[counts > 0] / n
        return -np.sum(p * np.log(p))

    hc, hk = entropy(table.sum(1)), entropy(table.sum(0))
    nz = table > 0
    hc_k = -np.sum(table[nz] / n * np.log(table[nz] / np.broadcast_to(table.sum(0), table.shape)[nz]))
    hk_c = -np.sum(table[nz] / n * np.log(table[nz] / np.broadcast_to(table.sum(1)[:, None], table.shape)[nz]))
    h = 1.0 if hc == 0 else 1 - hc_k / hc
    c = 1.0 if hk == 0 else 1 - hk_c / hk
    return 0.0 if h + c == 0 else float(2 * h * c / (h + c))


def label_f1(truth, predicted, weighted):
    labels = sorted(set(truth) | set(predicted))
    f1s, weights = [], []
    for lab in labels:
        tp = sum(1 for t, p in zip(truth, predicted) if t == lab and p == lab)
        fp = sum(1 for t, p in zip(truth, predicted) if t != lab and p == lab)
        fn = sum(1 for t, p in zip(truth, predicted) if t == lab and p != lab)
        f1s.append(0.0 if 2 * tp + fp + fn == 0 else 2 * tp / (2 * tp + fp + fn))
        weights.append(sum(1 for t in truth if t == lab) if weighted else 1)
    return float(np.dot(f1s, weights) / np.sum(weights))


def label_precision_recall(truth, predicted):
    labels = sorted(set(truth) | set(predicted))
    ps, rs, ws = [], [], []
    for lab in labels:
        tp = sum(1 for t, p in zip(truth, predicted) if t == lab and p == lab)
        npred = sum(1 for p in predicted if p == lab)
        support = sum(1 for t in truth if t == lab)
        ps.append(tp / npred if npred else 0.0)
        rs.append(tp / support if support else 0.0)
        ws.append(support)
    return float(np.dot(ps, ws) / sum(ws)), float(np.dot(rs, ws) / sum(ws))


sets = {}

# ---- STS: 12 pairs, gold scores with ties ----
rows, gold, cosine = [], [], []
for i in range(12):
    a = vec(f"sts a{i}", rng.normal(size=6))
    b = vec(f"sts b{i}", vectors[a] + rng.normal(size=6) * (0.3 + 0.15 * i))
    score = [5, 5, 4.2, 4.2, 4.2, 3, 3, 2.5, 1, 1, 0.5, 0][i]
    rows.append({"sentence1": a, "sentence2": b, "score": score})
    gold.append(score)
    cosine.append(cos(vectors[a], vectors[b]))
neg_euc = [-np.linalg.norm(unit(vectors[r["sentence1"]]) - unit(vectors[r["sentence2"]])) for r in rows]
neg_man = [-np.sum(np.abs(unit(vectors[r["sentence1"]]) - unit(vectors[r["sentence2"]]))) for r in rows]
sets["STS"] = {"rows": rows, "expected": {
    "cosine_spearman": spearman(gold, cosine), "cosine_pearson": pearson(gold, cosine),
    "euclidean_spearman": spearman(gold, neg_euc), "manhattan_spearman": spearman(gold, neg_man),
    "main_score": spearman(gold, cosine)}}

# ---- PairClassification: 16 pairs, labels 0/1 (one row per pair) ----
rows, labels = [], []
for i in range(16):
    a = vec(f"pair a{i}", rng.normal(size=5))
    label = int(i % 3 != 0)
    noise = 0.5 if label else 1.6
    b = vec(f"pair b{i}", vectors[a] + rng.normal(size=5) * noise * (1 + 0.1 * i))
    rows.append({"sentence1": a, "sentence2": b, "labels": label})
    labels.append(label)
e1 = [unit(vectors[r["sentence1"]]) for r in rows]
e2 = [unit(vectors[r["sentence2"]]) for r in rows]
expected = {}
for name, fn, higher in [("cosine", lambda x, y: cos(x, y), True), ("dot", lambda x, y: float(np.dot(x, y)), True),
                         ("euclidean", lambda x, y: float(np.linalg.norm(x - y)), False),
                         ("manhattan", lambda x, y: float(np.sum(np.abs(x - y))), False)]:
    s = [fn(x, y) for x, y in zip(e1, e2)]
    m = best_thresholds(s, labels, higher)
    m["ap"] = average_precision(labels, s if higher else [-v for v in s])
    for k, v in m.items():
        expected[f"{name}_{k}"] = v
expected["max_ap"] = max(expected[f"{n}_ap"] for n in ["cosine", "dot", "euclidean", "manhattan"])
expected["main_score"] = expected["max_ap"]
sets["PairClassification"] = {"rows": rows, "expected": expected}

# ---- Reranking: 4 queries, candidate lists ----
rows, aps, mrrs = [], [], []
for q in range(4):
    query = vec(f"rr q{q}", rng.normal(size=5))
    pos = [vec(f"rr q{q} pos{j}", vectors[query] + rng.normal(size=5) * 1.2) for j in range(2 + q % 2)]
    neg = [vec(f"rr q{q} neg{j}", rng.normal(size=5)) for j in range(5 + 4 * (q == 2))]
    rows.append({"query": query, "positive": pos, "negative": neg})
    scores = [cos(vectors[query], vectors[d]) for d in pos + neg]
    relevant = [True] * len(pos) + [False] * len(neg)
    aps.append(average_precision(relevant, scores))
    order = sorted(range(len(scores)), key=lambda i: -scores[i])[:10]
    mrrs.append(next((1 / (r + 1) for r, i in enumerate(order) if relevant[i]), 0.0))
rows.append({"query": "rr dropped", "positive": [], "negative": ["rr q0 neg0"]})  # MTEB drops rows without positives
vec("rr dropped", rng.normal(size=5))
sets["Reranking"] = {"rows": rows, "expected": {"map": float(np.mean(aps)), "mrr": float(np.mean(mrrs)), "main_score": float(np.mean(aps))}}

# ---- Classification: 3 classes in 4-d, train and test; unnormalised features ----
centers = {"0": np.array([2.0, 0, 0, 1]), "1": np.array([0, 2.0, 0, -1]), "2": np.array([0, 0, 2.0, 0.5])}
train, test = [], []
for split, per_class, store in [("train", 6, train), ("test", 7, test)]:
    for lab, c in centers.items():
        for j in range(per_class):
            store.append({"text": vec(f"cls {split} {lab} {j}", c + rng.normal(size=4) * 1.3), "label": int(lab)})
x = torch.tensor(np.stack([vectors[r["text"]] for r in train]), dtype=torch.float64)
y = torch.tensor([r["label"] for r in train])
w = torch.zeros(3, 4, dtype=torch.float64, requires_grad=True)
b = torch.zeros(3, dtype=torch.float64, requires_grad=True)
opt = torch.optim.LBFGS([w, b], lr=1, max_iter=500, tolerance_grad=1e-12, tolerance_change=1e-14, history_size=10, line_search_fn="strong_wolfe")
n = len(train)


def closure():
    opt.zero_grad()
    loss = torch.nn.functional.cross_entropy(x @ w.T + b, y, reduction="sum") / n + (w * w).sum() / (2 * 1.0 * n)
    loss.backward()
    return loss


opt.step(closure)
xt = torch.tensor(np.stack([vectors[r["text"]] for r in test]), dtype=torch.float64)
pred = (xt @ w.T + b).argmax(1).tolist()
truth = [r["label"] for r in test]
sets["Classification"] = {"rows": test, "train": train, "expected": {
    "accuracy": float(np.mean([p == t for p, t in zip(pred, truth)])),
    "f1": label_f1(truth, pred, False), "f1_weighted": label_f1(truth, pred, True),
    "main_score": float(np.mean([p == t for p, t in zip(pred, truth)]))},
    "weights": torch.cat([w, b[:, None]], 1).detach().numpy().ravel().tolist()}

# ---- Clustering: two sets; 3 well-separated blobs each, labels that disagree with the geometry for some points ----
rows, vs = [], []
for s_i in range(2):
    texts, labs, geometry = [], [], []
    for blob in range(3):
        center = np.zeros(4)
        center[blob] = 10.0
        for j in range(6):
            t = vec(f"clu {s_i} {blob} {j}", center + rng.normal(size=4) * 0.3)
            label = blob if j >= 1 + s_i else (blob + 1) % 3  # the first 1 or 2 points of each blob carry the next label
            texts.append(t)
            labs.append(f"topic{label}")
            geometry.append(blob)
    rows.append({"sentences": texts, "labels": labs})
    vs.append(v_measure(labs, geometry))
sets["Clustering"] = {"rows": rows, "expected": {"v_measure": float(np.mean(vs)), "v_measure_std": float(np.std(vs)), "main_score": float(np.mean(vs))}}

# ---- Summarization: 3 texts, 2 human and 4-5 machine summaries, human relevance with ties ----
rows, rhos, pears = [], [], []
for t_i in range(3):
    human = [vec(f"sum {t_i} human{j}", rng.normal(size=5)) for j in range(2)]
    machine = [vec(f"sum {t_i} machine{j}", vectors[human[j % 2]] + rng.normal(size=5) * (0.4 + 0.4 * j)) for j in range(4 + t_i % 2)]
    relevance = [[4.5, 3.0, 3.0, 1.0, 2.0][j] for j in range(len(machine))]
    rows.append({"text": f"sum text {t_i}", "human_summaries": human, "machine_summaries": machine, "relevance": relevance})
    best = [max(cos(vectors[m], vectors[h]) for h in human) for m in machine]
    rhos.append(spearman(relevance, best))
    pears.append(pearson(relevance, best))
sets["Summarization"] = {"rows": rows, "expected": {"cosine_spearman": float(np.mean(rhos)), "cosine_pearson": float(np.mean(pears)), "main_score": float(np.mean(rhos))}}

# ---- BitextMining: 10 pairs, some mismatched by noise ----
rows = []
src = [vec(f"bt src{i}", rng.normal(size=4)) for i in range(10)]
tgt = [vec(f"bt tgt{i}", vectors[src[i]] + rng.normal(size=4) * (0.2 if i < 6 else 1.5)) for i in range(10)]
rows = [{"sentence1": s, "sentence2": t} for s, t in zip(src, tgt)]
pred = [int(np.argmax([cos(vectors[s], vectors[t]) for t in tgt])) for s in src]
gold_idx = list(range(10))
precision, recall = label_precision_recall(gold_idx, pred)
sets["BitextMining"] = {"rows": rows, "expected": {"f1": label_f1(gold_idx, pred, True), "precision": precision, "recall": recall,
                                                   "accuracy": float(np.mean([p == g for p, g in zip(pred, gold_idx)])),
                                                   "main_score": label_f1(gold_idx, pred, True)}}

out = {"vectors": {k: v.tolist() for k, v in vectors.items()}, "sets": sets}
path = os.path.join(os.path.dirname(__file__), "..", "Trainer.Tests", "Fixtures", "mteb", "handmade.json")
with open(path, "w") as f:
    json.dump(out, f, indent=1)
for name, s in sets.items():
    print(name, {k: round(v, 6) for k, v in s["expected"].items()})
