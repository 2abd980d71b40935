#!/usr/bin/env python3
"""Writes a tiny random model of a newer family with a real tokenizer, for tests/interop/run.sh (dev-only).

  tiny_family_model.py FAMILY TOKENIZER_DIR OUT_DIR

FAMILY is tiny-qwen3, tiny-qwen2 or tiny-llama3: the shape of tests/Trainer.Tests/Fixtures/FAMILY/config.json (hidden
64, 2 layers; qwen2's q/k/v biases, qwen3's q/k norms, llama3's RoPE rescale) with the vocabulary of TOKENIZER_DIR's
tokenizer.json, whose tokenizer.json and tokenizer_config.json are copied beside seeded random weights. Needs torch
(and numpy) only, so it runs on the development machine as well as on the GPU machine.
"""
import json
import os
import shutil
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "reference"))
import mistral_reference as ref  # noqa: E402 (its safetensors writer)
import tiny_families  # noqa: E402 (its weight layout)


def main():
    family, tokenizer_dir, out = sys.argv[1:4]
    config = json.load(open(os.path.join(ref.FIXTURES, family, "config.json"), encoding="utf-8"))
    tokenizer = json.load(open(os.path.join(tokenizer_dir, "tokenizer.json"), encoding="utf-8"))
    ids = list(tokenizer["model"]["vocab"].values()) + [t["id"] for t in tokenizer.get("added_tokens", [])]
    tokenizer_config = json.load(open(os.path.join(tokenizer_dir, "tokenizer_config.json"), encoding="utf-8"))
    by_content = {t["content"]: t["id"] for t in tokenizer.get("added_tokens", [])}

    def token_id(name):
        value = tokenizer_config.get(name)
        value = value.get("content") if isinstance(value, dict) else value
        return by_content.get(value)
    config["vocab_size"] = max(ids) + 1
    config["bos_token_id"] = token_id("bos_token")
    config["eos_token_id"] = token_id("eos_token")
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "config.json"), "w", encoding="utf-8") as f:
        json.dump(config, f, indent=2)
    generator = torch.Generator().manual_seed(20261206)
    ref.write_safetensors(os.path.join(out, "model.safetensors"), tiny_families.weights(config, generator))
    for name in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(os.path.join(tokenizer_dir, name), os.path.join(out, name))
    print(f"wrote {out}: {family} with vocab_size {config['vocab_size']}")


if __name__ == "__main__":
    main()
