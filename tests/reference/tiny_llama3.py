#!/usr/bin/env python3
"""Writes the tiny Llama 3.1-style fixture and its golden (dev-only; see README.md next to it).

A seeded random `model_type: llama` model with Llama 3.1's RoPE rescale: hidden 64, 2 layers, 4 query heads of
head_dim 16 over 2 K/V heads, rope_theta 5e5, rope_scaling llama3 with original_max_position_embeddings 8192 and
factor 32. Its 8 frequencies have wavelengths from 6 to ~6e5 positions, so all three bands of the rescale are
used: 4 short (kept), 1 between 2048 and 8192 (blended), 3 long (divided by 32). Biases do not exist in Llama;
norm weights are random around 1 so that a norm applied to the wrong tensor shows.

The golden holds the rescaled frequencies and, for two right-padded id rows (64 and 37 tokens, long enough for the
slow frequencies to turn), the final-norm hidden state at every real position and the pooled embeddings, from
mistral_reference.py's float32 model.

    /usr/bin/python3 tests/reference/tiny_llama3.py
"""
import json
import os

import torch

import mistral_reference as ref

FOLDER = os.path.join(ref.FIXTURES, "tiny-llama3")
CONFIG = {
    "architectures": ["LlamaForCausalLM"],
    "model_type": "llama",
    "vocab_size": 96,
    "hidden_size": 64,
    "intermediate_size": 128,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "head_dim": 16,
    "hidden_act": "silu",
    "rms_norm_eps": 1e-5,
    "rope_theta": 500000.0,
    "rope_scaling": {"rope_type": "llama3", "factor": 32.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                     "original_max_position_embeddings": 8192},
    "max_position_embeddings": 131072,
    "bos_token_id": 1,
    "eos_token_id": [2, 3],
    "tie_word_embeddings": True,
    "torch_dtype": "float32",
}


def weights(cfg, generator):
    def normal(*shape, scale):
        return (torch.randn(*shape, generator=generator) * scale).float()
    h, i, d = cfg["hidden_size"], cfg["intermediate_size"], cfg["head_dim"]
    q, kv = cfg["num_attention_heads"] * d, cfg["num_key_value_heads"] * d
    w = {"model.embed_tokens.weight": normal(cfg["vocab_size"], h, scale=1.0)}
    for layer in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{layer}."
        for name, shape in [("self_attn.q_proj", (q, h)), ("self_attn.k_proj", (kv, h)), ("self_attn.v_proj", (kv, h)),
                            ("self_attn.o_proj", (h, q)), ("mlp.gate_proj", (i, h)), ("mlp.up_proj", (i, h)),
                            ("mlp.down_proj", (h, i))]:
            w[p + name + ".weight"] = normal(*shape, scale=shape[1] ** -0.5)
        w[p + "input_layernorm.weight"] = 1 + normal(h, scale=0.2)
        w[p + "post_attention_layernorm.weight"] = 1 + normal(h, scale=0.2)
    w["model.norm.weight"] = 1 + normal(h, scale=0.2)
    return w


def main():
    os.makedirs(FOLDER, exist_ok=True)
    generator = torch.Generator().manual_seed(20261206)
    with open(os.path.join(FOLDER, "config.json"), "w", encoding="utf-8") as f:
        json.dump(CONFIG, f, indent=2)
    ref.write_safetensors(os.path.join(FOLDER, "model.safetensors"), weights(CONFIG, generator))

    model = ref.Mistral(FOLDER)
    rows = [torch.randint(4, CONFIG["vocab_size"], (length,), generator=generator).tolist() for length in (64, 37)]
    rows = [[1] + r[1:-1] + [2] for r in rows]  # BOS ... EOS
    input_ids, attention_mask = ref.pad_right(rows, 2)
    with torch.no_grad():
        hidden = model.hidden(input_ids, attention_mask)
        embeddings = model.embed(rows)
    golden = {
        "inverse_frequencies": ref.inverse_frequencies(model.cfg).tolist(),
        "input_ids": rows,
        "last_hidden_state": [ref.rounded(hidden[b, :len(r)], 7) for b, r in enumerate(rows)],
        "embeddings": ref.rounded(embeddings, 7),
    }
    with open(os.path.join(ref.FIXTURES, "tiny-llama3.golden.json"), "w", encoding="utf-8") as f:
        json.dump(golden, f)
    print(f"wrote {FOLDER} and tiny-llama3.golden.json")


if __name__ == "__main__":
    main()
