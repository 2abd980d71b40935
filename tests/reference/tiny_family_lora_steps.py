#!/usr/bin/env python3
"""Writes 3 LoRA training steps of each tiny family model (dev-only; see README.md next to it).

For tiny-llama3, tiny-qwen2 and tiny-qwen3 (written by tiny_families.py): a seeded PEFT adapter (r 4, alpha 8,
dropout 0, all seven projections, A and B both non-zero) is written to Fixtures/<name>-lora-init/, then three
InfoNCE steps (temperature 0.02, candidates [positives; negatives]) on three seeded batches of 4 (query, positive,
negative) id rows, each step: backward, clip the global gradient norm to 1.0, torch.optim.AdamW (lr 1e-3, betas
0.9/0.999, eps 1e-8, weight decay 0.01). Fixtures/<name>.lora-steps.json holds the batches, the loss and gradient norm
of each step; Fixtures/<name>.lora-steps.safetensors the adapter after the third step.

Then the same from the same adapter with k = 3 hard negatives per row (data.negatives_per_query: 3) on three other
seeded batches: Fixtures/<name>.lora-steps.k3.json and .k3.safetensors. The negatives are [row 0's 3, row 1's 3, ...]
(row-major), the candidate layout the trainer uses.

    /usr/bin/python3 tests/reference/tiny_family_lora_steps.py
"""
import json
import os

import torch

import mistral_reference as ref

NAMES = ["tiny-llama3", "tiny-qwen2", "tiny-qwen3"]
PROJECTIONS = ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj", "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"]
RANK, ALPHA, TEMPERATURE, STEPS, ROWS = 4, 8, 0.02, 3, 4
LR, BETAS, EPS, WEIGHT_DECAY, MAX_NORM = 1e-3, (0.9, 0.999), 1e-8, 0.01, 1.0


def write_adapter(name, cfg, generator):
    folder = os.path.join(ref.FIXTURES, f"{name}-lora-init")
    os.makedirs(folder, exist_ok=True)
    w = ref.load_weights(os.path.join(ref.FIXTURES, name))
    tensors = {}
    for i in range(cfg.num_hidden_layers):
        for projection in PROJECTIONS:
            out_features, in_features = w[f"layers.{i}.{projection}.weight"].shape
            key = f"base_model.model.layers.{i}.{projection}"
            tensors[key + ".lora_A.weight"] = torch.randn(RANK, in_features, generator=generator) * 0.1
            tensors[key + ".lora_B.weight"] = torch.randn(out_features, RANK, generator=generator) * 0.1
    ref.write_safetensors(os.path.join(folder, "adapter_model.safetensors"), tensors)
    config = {"peft_type": "LORA", "task_type": "FEATURE_EXTRACTION", "r": RANK, "lora_alpha": ALPHA, "lora_dropout": 0.0,
              "target_modules": [p.split(".")[1] for p in PROJECTIONS], "bias": "none", "base_model_name_or_path": name,
              "fan_in_fan_out": False, "inference_mode": False}
    with open(os.path.join(folder, "adapter_config.json"), "w", encoding="utf-8") as f:
        json.dump(config, f, indent=2)
    return folder


def batches(cfg, generator, k=1):
    def row():
        length = int(torch.randint(5, 21, (1,), generator=generator))
        return [1] + torch.randint(4, cfg.vocab_size, (length - 2,), generator=generator).tolist() + [2]  # BOS ... EOS
    if k == 1:
        return [{key: [row() for _ in range(ROWS)] for key in ("query_ids", "positive_ids", "negative_ids")} for _ in range(STEPS)]
    return [{"query_ids": [row() for _ in range(ROWS)], "positive_ids": [row() for _ in range(ROWS)],
             "negative_ids": [[row() for _ in range(k)] for _ in range(ROWS)]} for _ in range(STEPS)]  # [row][k]


def steps(name, seed, k=1):
    generator = torch.Generator().manual_seed(seed)
    folder = os.path.join(ref.FIXTURES, name)
    cfg = ref.Config(os.path.join(folder, "config.json"))
    adapter = write_adapter(name, cfg, generator) if k == 1 else os.path.join(ref.FIXTURES, f"{name}-lora-init")
    data = batches(cfg, generator, k)
    suffix = "" if k == 1 else f".k{k}"
    model = ref.Mistral(folder, adapter)
    params = list(model.lora.keys.values())
    optimizer = torch.optim.AdamW(params, lr=LR, betas=BETAS, eps=EPS, weight_decay=WEIGHT_DECAY)
    losses, norms = [], []
    for batch in data:
        optimizer.zero_grad()
        negatives = batch["negative_ids"] if k == 1 else [n for row in batch["negative_ids"] for n in row]  # row-major
        loss = ref.info_nce(model.embed(batch["query_ids"]), model.embed(batch["positive_ids"]), model.embed(negatives), TEMPERATURE)
        loss.backward()
        norms.append(float(torch.nn.utils.clip_grad_norm_(params, MAX_NORM)))
        optimizer.step()
        losses.append(loss.item())
    ref.write_safetensors(os.path.join(ref.FIXTURES, f"{name}.lora-steps{suffix}.safetensors"), {k: v.detach() for k, v in model.lora.keys.items()})
    golden = {"temperature": TEMPERATURE, "learning_rate": LR, "betas": list(BETAS), "eps": EPS, "weight_decay": WEIGHT_DECAY,
              "max_grad_norm": MAX_NORM, "negatives_per_query": k, "batches": data, "losses": losses, "grad_norms": norms}
    with open(os.path.join(ref.FIXTURES, f"{name}.lora-steps{suffix}.json"), "w", encoding="utf-8") as f:
        json.dump(golden, f)
    print(f"{name} k={k}: losses {losses}, grad norms {norms}")


def main():
    for n, name in enumerate(NAMES):
        steps(name, 20261207 + n)
    for n, name in enumerate(NAMES):
        steps(name, 20261210 + n, k=3)


if __name__ == "__main__":
    main()
