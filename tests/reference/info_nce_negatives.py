#!/usr/bin/python3
"""InfoNCE with k hard negatives per row, over a fixed set of unit-norm embeddings: the golden for
tests/Trainer.Tests/Losses/InfoNceNegativesTests.cs.

The candidate layout is Trainer's: [B positives; B*k negatives in row-major order] (row 0's k negatives, then row 1's,
...), and the target of query i is candidate i. The loss is cross-entropy over cosine / temperature; the gradients are
torch autograd's with respect to the (already normalised) queries, positives and negatives.

    /usr/bin/python3 tests/reference/info_nce_negatives.py --out tests/Trainer.Tests/Fixtures/info-nce-negatives.golden.json

Needs torch only (Debian's python3-torch 1.13). The inputs are drawn from a seeded generator and rounded
to 7 decimals; the loss and the gradients are computed from the rounded values, so the C# test reads exactly the
inputs the reference used.
"""
import argparse
import json

import torch

B, K, H = 4, 3, 16
TEMPERATURE = 0.05
SEED = 23


def unit_rows(generator, rows, near=None):
    x = torch.randn(rows, H, generator=generator, dtype=torch.float64)
    if near is not None:
        x = near + 0.6 * x
    x = x / x.norm(dim=1, keepdim=True)
    return torch.round(x * 1e7) / 1e7


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    g = torch.Generator().manual_seed(SEED)
    queries = unit_rows(g, B)
    # positives close to their queries, negatives of each row a little less close: a loss that is neither 0 nor log(N)
    positives = unit_rows(g, B, near=queries)
    negatives = unit_rows(g, B * K, near=queries.repeat_interleave(K, dim=0) * 0.5)
    tensors = [t.to(torch.float32).clone().requires_grad_(True) for t in (queries, positives, negatives)]
    q, p, n = tensors
    candidates = torch.cat([p, n], dim=0)                   # [B + B*K, H]
    logits = q @ candidates.t() / TEMPERATURE               # [B, B + B*K]
    loss = torch.nn.functional.cross_entropy(logits, torch.arange(B))
    loss.backward()

    def rows(t):
        return [[round(float(v), 7) for v in row] for row in t.tolist()]

    golden = {
        "source": "tests/reference/info_nce_negatives.py (torch %s)" % torch.__version__,
        "layout": "candidates [B positives; B*k negatives row-major: row 0's k, then row 1's, ...]; target of query i is i",
        "batch": B,
        "negatives_per_query": K,
        "temperature": TEMPERATURE,
        "queries": rows(queries),
        "positives": rows(positives),
        "negatives": rows(negatives),
        "loss": round(float(loss), 7),
        "grad_queries": rows(q.grad),
        "grad_positives": rows(p.grad),
        "grad_negatives": rows(n.grad),
    }
    with open(args.out, "w") as f:
        json.dump(golden, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
