#!/usr/bin/env python3
"""Independent reference for the loss options (issue 23): the false-negative filter and Matryoshka InfoNCE.

Writes tests/Trainer.Tests/Fixtures/loss-options.golden.json:

  * cases: fixed unit-norm embeddings (queries [N, H], positives [N, H], negatives [N*k, H], k = 2, row-major:
    row 0's negatives, then row 1's), and for each case the loss and its gradient with respect to every embedding.
      - matryoshka:          dims [32, 16], weights 1, 1
      - matryoshka_weighted: dims [32, 16, 8], weights [1, 0.5, 0.25]
      - false_negative:      margin 0.1; the batch is built so that query 0 scores positive 1 and query 2 scores its
                             own first hard negative above their positives + 0.1 (two masked candidates)
      - both:                margin 0.1 and dims [32, 16]
  * training: 3 AdamW steps (lr 0.002, no weight decay, no clipping) on models/tiny-mistral with its fixture adapter
    (lora-adapter/, dropout 0) on the info_nce ids of tiny-mistral.golden.json, loss = Matryoshka [32, 16] with the
    false-negative margin 0.1; the loss before each step and the adapter after the last.

Matryoshka follows sentence-transformers' MatryoshkaLoss: each dim truncates the computed embedding to its first d
components and L2-normalises again (F.normalize(e[..., :d])), including the full size; the loss is the weighted sum.
Without dims the loss is the plain InfoNCE on the given unit-norm embeddings (no renormalisation).
The false-negative mask follows Qwen3-Embedding: candidate j != i is dropped from row i's softmax when its cosine
exceeds the positive's cosine + margin (both before the temperature); decided on the full embeddings, without a
gradient. It is written here as explicit loops over Python floats, not as the C# tensor code.

Dev-only (python3, numpy, torch 1.13; Debian python3-torch). Nothing in the build or tests runs it:

    /usr/bin/python3 tests/reference/loss_options.py
"""

import json
import os
import sys

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
FIXTURES = os.path.join(REPO, "tests", "Trainer.Tests", "Fixtures")
sys.path.insert(0, HERE)

import mistral_reference  # noqa: E402  (the from-scratch Mistral + PEFT LoRA of the other goldens)

N, K, H = 4, 2, 32
TEMPERATURE = 0.05
MARGIN = 0.1


def unit(x):
    return x / x.norm(dim=-1, keepdim=True)


def embeddings():
    g = torch.Generator().manual_seed(23)
    q = unit(torch.randn(N, H, generator=g))
    p = unit(q + 0.9 * torch.randn(N, H, generator=g))      # positives close to their queries
    n = unit(torch.randn(N * K, H, generator=g))
    p[1] = unit(q[0] + 0.05 * torch.randn(H, generator=g))  # query 0 scores positive 1 far above its own
    n[2 * K] = unit(q[2] + 0.05 * torch.randn(H, generator=g))  # query 2's first hard negative: a false negative
    return q.float(), p.float(), n.float()


def false_negative_mask(q, candidates, margin):
    """[N][N + M] booleans, with Python floats: candidate j != i scores above s_ii + margin."""
    s = (q @ candidates.t()).tolist()
    return [[j != i and s[i][j] > s[i][i] + margin for j in range(len(s[i]))] for i in range(len(s))]


def info_nce(q, p, n, temperature, margin=None, dims=None, weights=None):
    """Returns (loss, masked count). ST's MatryoshkaLoss: each dim truncates, then renormalises."""
    candidates = torch.cat([p, n], dim=0)
    mask = false_negative_mask(q.detach(), candidates.detach(), margin) if margin is not None else None
    # Without dims: the plain loss on the unit-norm embeddings as given. With dims: every dim, the full one included,
    # truncates and renormalises (at the full size that changes only the gradient's radial part, which the model's own
    # normalisation removes anyway).
    plain = dims is None
    dims = dims or [q.shape[1]]
    weights = weights or [1.0] * len(dims)
    total = 0.0
    for d, w in zip(dims, weights):
        if plain:
            qd, cd = q, candidates
        else:
            qd, cd = F.normalize(q[:, :d], p=2, dim=-1), F.normalize(candidates[:, :d], p=2, dim=-1)
        logits = qd @ cd.t() / temperature
        rows = []
        for i in range(q.shape[0]):
            keep = [j for j in range(cd.shape[0]) if mask is None or not mask[i][j]]
            row = logits[i, keep]
            rows.append(torch.logsumexp(row, dim=0) - logits[i, i])  # -log softmax at the own positive
        total = total + w * torch.stack(rows).mean()
    masked = sum(sum(r) for r in mask) if mask is not None else 0
    return total, masked


def floats(t):
    return [floats(x) for x in t] if t.dim() > 0 else float(t)


def case(q, p, n, **options):
    q, p, n = (x.clone().requires_grad_(True) for x in (q, p, n))
    loss, masked = info_nce(q, p, n, TEMPERATURE, **options)
    loss.backward()
    return {
        "temperature": TEMPERATURE,
        "false_negative_margin": options.get("margin"),
        "matryoshka_dims": options.get("dims"),
        "matryoshka_weights": options.get("weights"),
        "loss": loss.item(),
        "masked": masked,
        "grad_queries": floats(q.grad),
        "grad_positives": floats(p.grad),
        "grad_negatives": floats(n.grad),
    }


def training():
    with open(os.path.join(FIXTURES, "tiny-mistral.golden.json"), encoding="utf-8") as f:
        golden = json.load(f)["info_nce"]
    model_dir = os.path.join(REPO, "models", "tiny-mistral")
    model = mistral_reference.Mistral(model_dir, os.path.join(model_dir, "lora-adapter"))
    params = list(model.lora.keys.values())
    optimizer = torch.optim.AdamW(params, lr=0.002, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)
    dims, losses, masked = [32, 16], [], []
    for _ in range(3):
        optimizer.zero_grad()
        q = model.embed(golden["query_ids"])
        p = model.embed(golden["positive_ids"])
        n = model.embed(golden["negative_ids"])
        loss, count = info_nce(q, p, n, golden["temperature"], margin=MARGIN, dims=dims)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        masked.append(count)
    return {
        "temperature": golden["temperature"],
        "false_negative_margin": MARGIN,
        "matryoshka_dims": dims,
        "learning_rate": 0.002,
        "losses": losses,
        "masked": masked,
        "adapter": {key: floats(t.detach()) for key, t in model.lora.keys.items()},
    }


def main():
    q, p, n = embeddings()
    golden = {
        "source": "tests/reference/loss_options.py",
        "queries": floats(q),
        "positives": floats(p),
        "negatives": floats(n),
        "negatives_per_query": K,
        "cases": {
            "matryoshka": case(q, p, n, dims=[32, 16]),
            "matryoshka_weighted": case(q, p, n, dims=[32, 16, 8], weights=[1.0, 0.5, 0.25]),
            "false_negative": case(q, p, n, margin=MARGIN),
            "both": case(q, p, n, margin=MARGIN, dims=[32, 16]),
            "plain": case(q, p, n),
        },
        "training": training(),
    }
    out = os.path.join(FIXTURES, "loss-options.golden.json")
    with open(out, "w", encoding="utf-8") as f:
        json.dump(golden, f)
        f.write("\n")
    c = golden["cases"]
    print(f"wrote {out}: plain {c['plain']['loss']:.6f}, matryoshka {c['matryoshka']['loss']:.6f}, "
          f"false_negative {c['false_negative']['loss']:.6f} ({c['false_negative']['masked']} masked), "
          f"training losses {golden['training']['losses']} masked {golden['training']['masked']}")


if __name__ == "__main__":
    main()
