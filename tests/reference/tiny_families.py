#!/usr/bin/env python3
"""Writes the tiny seeded models of the newer families and their goldens (dev-only; see README.md next to it).

Each is hidden 64, 2 layers, 4 query heads over 2 K/V heads, vocabulary 96, with random weights, random non-zero
biases and norm weights random around 1 (so that a bias or a norm applied to the wrong tensor shows):
  * tiny-llama3: model_type llama with Llama 3.1's RoPE rescale: head_dim 16, rope_theta 5e5, rope_scaling llama3
    with original_max_position_embeddings 8192 and factor 32. Its 8 frequencies have wavelengths from 6 to ~6e5
    positions, so all three bands are used: 4 short (kept), 1 between 2048 and 8192 (blended), 3 long (divided).
  * tiny-qwen2: model_type qwen2: biases on q, k and v; a sliding_window of 16, shorter than the test rows, with
    use_sliding_window false (transformers then attends to everything).
  * tiny-qwen3: model_type qwen3: q_norm and k_norm over head_dim 32, so heads x head_dim (128) differs from hidden.

Each golden holds the inverse frequencies and, for two right-padded id rows (64 and 37 tokens, long enough for the
slow frequencies to turn and to pass the unused window), the final-norm hidden state at every real position and the
pooled embeddings, from mistral_reference.py's float32 model.

    /usr/bin/python3 tests/reference/tiny_families.py
"""
import json
import os

import torch

import mistral_reference as ref

COMMON = {
    "vocab_size": 96, "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4,
    "num_key_value_heads": 2, "hidden_act": "silu", "bos_token_id": 1, "tie_word_embeddings": True, "torch_dtype": "float32",
}
FAMILIES = {
    "tiny-llama3": dict(COMMON, architectures=["LlamaForCausalLM"], model_type="llama", head_dim=16, rms_norm_eps=1e-5,
                        rope_theta=500000.0, max_position_embeddings=131072, eos_token_id=[2, 3],
                        rope_scaling={"rope_type": "llama3", "factor": 32.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                                      "original_max_position_embeddings": 8192}),
    "tiny-qwen2": dict(COMMON, architectures=["Qwen2ForCausalLM"], model_type="qwen2", rms_norm_eps=1e-6, rope_theta=1000000.0,
                       max_position_embeddings=32768, eos_token_id=2, use_sliding_window=False, sliding_window=16,
                       max_window_layers=1),
    "tiny-qwen3": dict(COMMON, architectures=["Qwen3ForCausalLM"], model_type="qwen3", head_dim=32, rms_norm_eps=1e-6,
                       rope_theta=1000000.0, max_position_embeddings=40960, eos_token_id=2, attention_bias=False,
                       use_sliding_window=False, sliding_window=None, max_window_layers=2),
}


def weights(cfg, generator):
    def normal(*shape, scale):
        return (torch.randn(*shape, generator=generator) * scale).float()
    h, i = cfg["hidden_size"], cfg["intermediate_size"]
    d = cfg.get("head_dim") or h // cfg["num_attention_heads"]
    q, kv = cfg["num_attention_heads"] * d, cfg["num_key_value_heads"] * d
    w = {"model.embed_tokens.weight": normal(cfg["vocab_size"], h, scale=1.0)}
    for layer in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{layer}."
        for name, shape in [("self_attn.q_proj", (q, h)), ("self_attn.k_proj", (kv, h)), ("self_attn.v_proj", (kv, h)),
                            ("self_attn.o_proj", (h, q)), ("mlp.gate_proj", (i, h)), ("mlp.up_proj", (i, h)),
                            ("mlp.down_proj", (h, i))]:
            w[p + name + ".weight"] = normal(*shape, scale=shape[1] ** -0.5)
            if cfg["model_type"] == "qwen2" and name in ("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj"):
                w[p + name + ".bias"] = normal(shape[0], scale=0.5)
        if cfg["model_type"] == "qwen3":
            w[p + "self_attn.q_norm.weight"] = 1 + normal(d, scale=0.2)
            w[p + "self_attn.k_norm.weight"] = 1 + normal(d, scale=0.2)
        w[p + "input_layernorm.weight"] = 1 + normal(h, scale=0.2)
        w[p + "post_attention_layernorm.weight"] = 1 + normal(h, scale=0.2)
    w["model.norm.weight"] = 1 + normal(h, scale=0.2)
    return w


def write(name, config, seed):
    folder = os.path.join(ref.FIXTURES, name)
    os.makedirs(folder, exist_ok=True)
    generator = torch.Generator().manual_seed(seed)
    with open(os.path.join(folder, "config.json"), "w", encoding="utf-8") as f:
        json.dump(config, f, indent=2)
    ref.write_safetensors(os.path.join(folder, "model.safetensors"), weights(config, generator))

    model = ref.Mistral(folder)
    rows = [torch.randint(4, config["vocab_size"], (length,), generator=generator).tolist() for length in (64, 37)]
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
    with open(os.path.join(ref.FIXTURES, f"{name}.golden.json"), "w", encoding="utf-8") as f:
        json.dump(golden, f)
    print(f"wrote {folder} and {name}.golden.json")


def main():
    for n, (name, config) in enumerate(FAMILIES.items()):
        write(name, config, 20261206 + n)


if __name__ == "__main__":
    main()
