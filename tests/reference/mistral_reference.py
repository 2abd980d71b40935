#!/usr/bin/env python3
"""Independent float32 reference for the goldens in tests/Trainer.Tests/Fixtures.

A from-scratch PyTorch implementation of Hugging Face MistralModel numerics, written to be read next to the
C# model rather than to be fast:

  * RMSNorm in float32:           x / sqrt(mean(x^2) + eps) * weight
  * rotate-half RoPE:             inv_freq_i = rope_theta^(-2i / head_dim), q' = q cos + rotate_half(q) sin
  * Llama 3.1 RoPE (rope_type llama3): each frequency's wavelength 2 pi / f against original / low_freq_factor
                                  and original / high_freq_factor: short ones kept, long ones divided by factor,
                                  the band between blended linearly in original / wavelength (Meta's apply_scaling)
  * grouped-query attention:      each of the num_key_value_heads K/V heads is repeated for
                                  num_attention_heads / num_key_value_heads consecutive query heads
  * mask:                         key k is hidden from query q when k > q (causal), when q - k >= sliding_window,
                                  or when attention_mask[k] == 0 (padding); hidden scores get float32's minimum
  * SwiGLU MLP:                   down(silu(gate(x)) * up(x))
  * Qwen2 (model_type qwen2):     q, k and v projections add their bias (o_proj has none)
  * Qwen3 (model_type qwen3):     each head of q and k RMS-normalised over head_dim (q_norm, k_norm) before RoPE;
                                  head_dim defaults to 128
  * LoRA from a PEFT folder:      W x + B (A x) * lora_alpha / r on each target projection (no dropout)
  * InfoNCE:                      cosine logits / temperature over candidates [positives; negatives],
                                  cross-entropy with target i for query i; gradients by autograd
  * embeddings:                   last non-padding token (EOS) of the final-norm hidden state, L2-normalised
  * LM logits (tied embeddings):  final hidden state . embed_tokens^T

Dev-only: needs python3, numpy, torch (any 1.13+) and sentencepiece (Debian: python3-numpy python3-torch
python3-sentencepiece). Nothing in the build or the test suite runs it. See README.md next to it.

    python3 tests/reference/mistral_reference.py --model models/tiny-mistral --out /tmp/tiny-mistral.golden.json
    python3 tests/reference/mistral_reference.py --model models/stories260k --out /tmp/stories260k.golden.json
    python3 tests/reference/mistral_reference.py --check
"""

import argparse
import json
import math
import os
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURES = os.path.join(REPO, "tests", "Trainer.Tests", "Fixtures")

# --------------------------------------------------------------------------------------------------------------
# Inputs of the goldens. Change these (and regenerate) to cover something new; the C# tests read only the JSON.
# --------------------------------------------------------------------------------------------------------------

QUERY_TEMPLATE = "Instruct: {instruction}\nQuery: {text}"
CLAIM = "Given a scientific claim, retrieve documents that support or refute the claim"
WEB = "Given a web search query, retrieve relevant passages that answer the query"

# (text, instruction or None). Queries get QUERY_TEMPLATE; documents are the text alone.
CASES = [
    ("0-dimensional biomaterials lack inductive properties.", CLAIM),
    ("How do I bake sourdough bread at home?", WEB),
    ("Alterations of the architecture of cerebral white matter in the developing human brain can affect cortical "
     "development and result in functional disabilities.", None),
    ("Das ist ein kurzer deutscher Satz mit Umlauten: \u00e4\u00f6\u00fc \u00df.", None),
    ("tabs\tand\nnewlines  and   spaces", None),
    ("emoji \U0001F642 and CJK \u4e2d\u6587\u5b57\u7b26 mixed", None),
    ("x", None),
]

# batch_hidden: a right-padded batch of the first BATCH_CASES cases.
BATCH_CASES = 3
BATCH_PAD_ID = 0

# info_nce: query i (with CLAIM) belongs to positive i; the hard negatives are extra candidates for every query.
INFO_NCE_TEMPERATURE = 0.02
INFO_NCE_QUERIES = [
    "Aspirin reduces the risk of heart attack.",
    "Vitamin D deficiency causes rickets.",
    "Smoking increases lung cancer risk.",
    "Exercise improves insulin sensitivity.",
]
INFO_NCE_POSITIVES = [
    "Daily low-dose aspirin lowered myocardial infarction incidence in a randomized trial.",
    "Rickets results from prolonged vitamin D deficiency in children.",
    "Cohort studies link tobacco smoking to a higher incidence of lung carcinoma.",
    "Aerobic training increased insulin-stimulated glucose uptake in muscle.",
]
INFO_NCE_NEGATIVES = [
    "Aspirin is synthesised from salicylic acid and acetic anhydride.",
    "Vitamin C deficiency causes scurvy.",
    "Lung capacity declines slowly with age.",
    "Insulin was first isolated in 1921.",
]

# stories260k-style LM golden: greedy generation from BOS, logits of the first LM_LOGIT_POSITIONS positions.
LM_GREEDY_STEPS = 200
LM_LOGIT_POSITIONS = 16

# Decimal places kept in the JSON (float32 carries about 7 significant digits).
EMBEDDING_DECIMALS = 7
HIDDEN_DECIMALS = 6
LOGIT_DECIMALS = 5

# --------------------------------------------------------------------------------------------------------------
# safetensors: 8-byte little-endian header length, a JSON header {name: {dtype, shape, data_offsets}}, then data.
# --------------------------------------------------------------------------------------------------------------

_NUMPY_DTYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4", "I16": "<i2", "I8": "i1",
                 "U8": "u1", "BOOL": "?"}


def read_safetensors(path):
    """Returns {name: float32 tensor} in file order."""
    with open(path, "rb") as f:
        data = f.read()
    (header_len,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + header_len].decode("utf-8"))
    base = 8 + header_len
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        start, end = entry["data_offsets"]
        raw = data[base + start:base + end]
        if entry["dtype"] == "BF16":  # bfloat16 is the top half of a float32
            array = (np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16).view(np.float32)
        elif entry["dtype"] in _NUMPY_DTYPES:
            array = np.frombuffer(raw, dtype=_NUMPY_DTYPES[entry["dtype"]])
        else:
            raise ValueError(f"{path}: tensor {name} has dtype {entry['dtype']}, which this reader does not support")
        tensors[name] = torch.from_numpy(array.astype(np.float32).reshape(entry["shape"]))
    return tensors


def write_safetensors(path, tensors):
    """Writes {name: tensor} as float32, in the given order, header padded with spaces to 8 bytes."""
    header, blobs, offset = {}, [], 0
    for name, tensor in tensors.items():
        blob = tensor.detach().to(torch.float32).contiguous().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensor.shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    encoded = json.dumps(header).encode("utf-8")
    encoded += b" " * (-len(encoded) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(encoded)))
        f.write(encoded)
        for blob in blobs:
            f.write(blob)


# --------------------------------------------------------------------------------------------------------------
# Model
# --------------------------------------------------------------------------------------------------------------

class Config:
    def __init__(self, path):
        with open(path, encoding="utf-8") as f:
            c = json.load(f)
        self.raw = c
        self.vocab_size = c["vocab_size"]
        self.hidden_size = c["hidden_size"]
        self.intermediate_size = c["intermediate_size"]
        self.num_hidden_layers = c["num_hidden_layers"]
        self.num_attention_heads = c["num_attention_heads"]
        self.num_key_value_heads = c.get("num_key_value_heads", c["num_attention_heads"])
        self.model_type = c.get("model_type", "mistral")
        self.head_dim = c.get("head_dim") or (128 if self.model_type == "qwen3" else c["hidden_size"] // c["num_attention_heads"])
        self.qk_norm = self.model_type == "qwen3"
        self.rms_norm_eps = c["rms_norm_eps"]
        rope = c.get("rope_parameters") or c.get("rope_scaling") or {}
        self.rope_theta = c.get("rope_theta", rope.get("rope_theta", 10000.0))
        self.rope_llama3 = rope if rope.get("rope_type", rope.get("type")) == "llama3" else None
        # Qwen's window applies only with use_sliding_window (transformers then ignores sliding_window)
        self.sliding_window = c.get("sliding_window") if c.get("use_sliding_window", self.model_type not in ("qwen2", "qwen3")) else None
        self.tie_word_embeddings = c.get("tie_word_embeddings", False)
        self.bos_token_id = c.get("bos_token_id", 1)
        eos = c.get("eos_token_id", 2)
        self.eos_token_id = eos[0] if isinstance(eos, list) else eos  # Llama 3.1 lists several; the first pads
        self.is_causal_lm = any(a.endswith("ForCausalLM") for a in c.get("architectures", []))
        if c.get("hidden_act", "silu") != "silu":
            raise ValueError(f"{path}: hidden_act {c['hidden_act']} is not supported (silu only)")


def load_weights(model_dir):
    """All base weights, keyed without the optional 'model.' prefix (MistralModel names)."""
    index = os.path.join(model_dir, "model.safetensors.index.json")
    if os.path.exists(index):
        with open(index, encoding="utf-8") as f:
            files = sorted(set(json.load(f)["weight_map"].values()))
    else:
        files = ["model.safetensors"]
    weights = {}
    for file in files:
        for name, tensor in read_safetensors(os.path.join(model_dir, file)).items():
            weights[name[len("model."):] if name.startswith("model.") else name] = tensor
    return weights


class Lora:
    """A PEFT LoRA adapter: {module name: (A [r, in], B [out, r])} and scale = lora_alpha / r."""

    def __init__(self, adapter_dir):
        with open(os.path.join(adapter_dir, "adapter_config.json"), encoding="utf-8") as f:
            c = json.load(f)
        if c.get("peft_type", "LORA") != "LORA" or c.get("use_rslora") or c.get("use_dora"):
            raise ValueError(f"{adapter_dir}: only plain LoRA adapters are supported")
        self.scale = c["lora_alpha"] / c["r"]
        self.keys = {}  # adapter key -> tensor (leaf, so that autograd can report its gradient)
        self.modules = {}
        for key, tensor in read_safetensors(os.path.join(adapter_dir, "adapter_model.safetensors")).items():
            tensor.requires_grad_(True)
            self.keys[key] = tensor
            module, which = _lora_module(key)
            self.modules.setdefault(module, {})[which] = tensor

    def delta(self, module, x):
        if module not in self.modules:
            return None
        ab = self.modules[module]
        return (x @ ab["A"].t()) @ ab["B"].t() * self.scale


def _lora_module(key):
    # base_model.model[.model].layers.0.self_attn.q_proj.lora_A.weight -> (layers.0.self_attn.q_proj, A)
    name = key[len("base_model.model."):] if key.startswith("base_model.model.") else key
    if name.startswith("model."):
        name = name[len("model."):]
    for which in ("A", "B"):
        suffix = f".lora_{which}.weight"
        if name.endswith(suffix):
            return name[:-len(suffix)], which
    raise ValueError(f"unexpected adapter key {key}")


def rms_norm(x, weight, eps):
    x = x.to(torch.float32)
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * weight


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat([-x[..., half:], x[..., :half]], dim=-1)


def llama3_frequencies(inv_freq, rope):
    """Meta's apply_scaling of Llama 3.1, one frequency at a time in float64, returned as float32."""
    factor, low, high = rope["factor"], rope["low_freq_factor"], rope["high_freq_factor"]
    original = rope["original_max_position_embeddings"]
    scaled = []
    for f in inv_freq.double().tolist():
        wavelength = 2 * math.pi / f
        if wavelength < original / high:          # high frequency: unchanged
            scaled.append(f)
        elif wavelength > original / low:         # low frequency: slowed by the factor
            scaled.append(f / factor)
        else:                                     # in between: blend the two by where original / wavelength falls
            smooth = (original / wavelength - low) / (high - low)
            scaled.append((1 - smooth) * f / factor + smooth * f)
    return torch.tensor(scaled, dtype=torch.float64).float()


def inverse_frequencies(cfg):
    inv_freq = 1.0 / (cfg.rope_theta ** (torch.arange(0, cfg.head_dim, 2, dtype=torch.int64).float() / cfg.head_dim))
    return inv_freq if cfg.rope_llama3 is None else llama3_frequencies(inv_freq, cfg.rope_llama3)


def rope_cos_sin(cfg, length):
    inv_freq = inverse_frequencies(cfg)
    positions = torch.arange(length, dtype=torch.float32)
    freqs = torch.outer(positions, inv_freq)          # [S, Dh / 2]
    angles = torch.cat([freqs, freqs], dim=-1)        # [S, Dh]
    return angles.cos(), angles.sin()


def attention_bias(cfg, attention_mask):
    """[B, 1, S, S] additive bias: 0 where query q may see key k, float32's minimum where it may not."""
    length = attention_mask.shape[1]
    q = torch.arange(length)[:, None]
    k = torch.arange(length)[None, :]
    visible = k <= q
    if cfg.sliding_window is not None:
        visible = visible & (q - k < cfg.sliding_window)
    visible = visible[None, :, :] & attention_mask[:, None, :].bool()
    bias = torch.zeros(visible.shape, dtype=torch.float32)
    return bias.masked_fill(~visible, torch.finfo(torch.float32).min)[:, None, :, :]


class Mistral:
    """HF MistralModel on plain tensors named like the checkpoint's keys (self.w), plus an optional LoRA adapter.

    Shapes: B batch, S sequence, H hidden, Nh query heads, Nkv key/value heads, Dh head dim, V vocabulary.
    """

    def __init__(self, model_dir, adapter_dir=None):
        self.cfg = Config(os.path.join(model_dir, "config.json"))
        self.w = load_weights(model_dir)
        self.lora = Lora(adapter_dir) if adapter_dir else None

    def linear(self, name, x):
        y = x @ self.w[name + ".weight"].t()
        if name + ".bias" in self.w:
            y = y + self.w[name + ".bias"]
        if self.lora is not None:
            delta = self.lora.delta(name, x)
            if delta is not None:
                y = y + delta
        return y

    def attention(self, i, x, cos, sin, bias):
        cfg, p = self.cfg, f"layers.{i}.self_attn."
        batch, length, _ = x.shape                                                           # x [B, S, H]
        heads, kv_heads, d = cfg.num_attention_heads, cfg.num_key_value_heads, cfg.head_dim
        q = self.linear(p + "q_proj", x).view(batch, length, heads, d).transpose(1, 2)      # [B, Nh, S, Dh]
        k = self.linear(p + "k_proj", x).view(batch, length, kv_heads, d).transpose(1, 2)   # [B, Nkv, S, Dh]
        v = self.linear(p + "v_proj", x).view(batch, length, kv_heads, d).transpose(1, 2)   # [B, Nkv, S, Dh]
        if cfg.qk_norm:  # per head, over Dh (HF normalises before the transpose; the same numbers)
            q = rms_norm(q, self.w[p + "q_norm.weight"], cfg.rms_norm_eps)
            k = rms_norm(k, self.w[p + "k_norm.weight"], cfg.rms_norm_eps)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        group = heads // kv_heads  # query head h reads K/V head h // group
        k = k.repeat_interleave(group, dim=1)                                                # [B, Nh, S, Dh]
        v = v.repeat_interleave(group, dim=1)
        scores = q @ k.transpose(-1, -2) / math.sqrt(d) + bias                              # [B, Nh, S, S]
        probs = torch.softmax(scores, dim=-1, dtype=torch.float32)
        out = (probs @ v).transpose(1, 2).reshape(batch, length, heads * d)                 # [B, S, Nh * Dh]
        return self.linear(p + "o_proj", out)

    def mlp(self, i, x):
        p = f"layers.{i}.mlp."
        return self.linear(p + "down_proj", F.silu(self.linear(p + "gate_proj", x)) * self.linear(p + "up_proj", x))

    def hidden(self, input_ids, attention_mask):
        """last_hidden_state (after the final norm), [B, S, H]."""
        cfg = self.cfg
        x = self.w["embed_tokens.weight"][input_ids]                                         # [B, S, H]
        cos, sin = rope_cos_sin(cfg, input_ids.shape[1])
        bias = attention_bias(cfg, attention_mask)
        for i in range(cfg.num_hidden_layers):
            p = f"layers.{i}."
            h = rms_norm(x, self.w[p + "input_layernorm.weight"], cfg.rms_norm_eps)
            x = x + self.attention(i, h, cos, sin, bias)
            h = rms_norm(x, self.w[p + "post_attention_layernorm.weight"], cfg.rms_norm_eps)
            x = x + self.mlp(i, h)
        return rms_norm(x, self.w["norm.weight"], cfg.rms_norm_eps)

    def embed(self, rows):
        """L2-normalised last-token embeddings of id rows (right-padded into one batch), [B, H]."""
        input_ids, attention_mask = pad_right(rows, self.cfg.eos_token_id)
        hidden = self.hidden(input_ids, attention_mask)
        last = attention_mask.sum(dim=1) - 1  # right padding: the last real token is the EOS
        pooled = hidden[torch.arange(len(rows)), last]
        return F.normalize(pooled, p=2.0, dim=-1)

    def logits(self, input_ids):
        """[B, S, V], no padding."""
        hidden = self.hidden(input_ids, torch.ones_like(input_ids))
        head = self.w["embed_tokens.weight"] if self.cfg.tie_word_embeddings else self.w["lm_head.weight"]
        return hidden @ head.t()


def pad_right(rows, pad_id):
    length = max(len(r) for r in rows)
    input_ids = torch.tensor([r + [pad_id] * (length - len(r)) for r in rows], dtype=torch.int64)
    attention_mask = torch.tensor([[1] * len(r) + [0] * (length - len(r)) for r in rows], dtype=torch.int64)
    return input_ids, attention_mask


def info_nce(queries, positives, negatives, temperature):
    """Unit-norm queries [N, H], positives [N, H], negatives [M, H]; the target of query i is candidate i."""
    candidates = torch.cat([positives, negatives], dim=0)  # [N + M, H]
    logits = queries @ candidates.t() / temperature       # [N, N + M] cosines / temperature
    return F.cross_entropy(logits, torch.arange(queries.shape[0]))


# --------------------------------------------------------------------------------------------------------------
# Tokenization: BOS + SentencePiece ids of the formatted text + EOS
# --------------------------------------------------------------------------------------------------------------

class Tokenizer:
    def __init__(self, model_dir, cfg):
        import sentencepiece
        self.sp = sentencepiece.SentencePieceProcessor(model_file=os.path.join(model_dir, "tokenizer.model"))
        self.bos, self.eos = cfg.bos_token_id, cfg.eos_token_id

    def ids(self, text, instruction=None):
        formatted = text if instruction is None else QUERY_TEMPLATE.format(instruction=instruction, text=text)
        return [self.bos] + self.sp.encode(formatted) + [self.eos]


# --------------------------------------------------------------------------------------------------------------
# Goldens
# --------------------------------------------------------------------------------------------------------------

def rounded(tensor, decimals):
    if tensor.dim() == 0:
        return round(float(tensor), decimals)
    return [rounded(t, decimals) for t in tensor]


def embedding_golden(model_dir, grads_name):
    """Returns (golden dict, {adapter key: gradient}) for an embedding model with lora-adapter/."""
    base = Mistral(model_dir)
    tok = Tokenizer(model_dir, base.cfg)
    golden = {
        "model": os.path.basename(os.path.normpath(model_dir)),
        "pooling": "last token (EOS), L2-normalised",
        "padding": "right",
        "query_template": QUERY_TEMPLATE.replace("\n", "\\n"),
        "cases": [],
    }
    case_ids = [tok.ids(text, instruction) for text, instruction in CASES]
    with torch.no_grad():
        embeddings = base.embed(case_ids)  # one right-padded batch of all cases
        for (text, instruction), ids, embedding in zip(CASES, case_ids, embeddings):
            case = {"text": text}
            if instruction is not None:
                case["instruction"] = instruction
            case["input_ids"] = ids
            case["embedding"] = rounded(embedding, EMBEDDING_DECIMALS)
            golden["cases"].append(case)

        input_ids, attention_mask = pad_right(case_ids[:BATCH_CASES], BATCH_PAD_ID)
        golden["batch_hidden"] = {
            "input_ids": input_ids.tolist(),
            "attention_mask": attention_mask.tolist(),
            "last_hidden_state": rounded(base.hidden(input_ids, attention_mask), HIDDEN_DECIMALS),
        }

    adapted = Mistral(model_dir, os.path.join(model_dir, "lora-adapter"))
    with torch.no_grad():
        golden["lora_embeddings"] = rounded(adapted.embed(case_ids), EMBEDDING_DECIMALS)

    query_ids = [tok.ids(text, CLAIM) for text in INFO_NCE_QUERIES]
    positive_ids = [tok.ids(text) for text in INFO_NCE_POSITIVES]
    negative_ids = [tok.ids(text) for text in INFO_NCE_NEGATIVES]
    loss = info_nce(adapted.embed(query_ids), adapted.embed(positive_ids), adapted.embed(negative_ids),
                    INFO_NCE_TEMPERATURE)
    loss.backward()
    golden["info_nce"] = {
        "temperature": INFO_NCE_TEMPERATURE,
        "query_ids": query_ids,
        "positive_ids": positive_ids,
        "negative_ids": negative_ids,
        "loss": loss.item(),
        "grads_file": grads_name,
    }
    grads = {key: tensor.grad for key, tensor in adapted.lora.keys.items()}
    return golden, grads


def lm_golden(model_dir):
    model = Mistral(model_dir)
    ids = [model.cfg.bos_token_id]
    with torch.no_grad():
        for _ in range(LM_GREEDY_STEPS):  # no KV cache: the whole prefix each step (small models only)
            ids.append(int(model.logits(torch.tensor([ids]))[0, -1].argmax()))
        logits = model.logits(torch.tensor([ids[:LM_LOGIT_POSITIONS]]))[0]
    return {
        "source": f"tests/reference/mistral_reference.py on {os.path.basename(os.path.normpath(model_dir))}, "
                  f"torch {torch.__version__} float32",
        "input_ids": ids[:LM_LOGIT_POSITIONS],
        "greedy_continuation_ids": ids,
        "logits": rounded(logits, LOGIT_DECIMALS),
    }


def compute(model_dir, kind, out_path):
    """Returns (golden, grads or None, grads file name or None)."""
    if kind == "lm":
        return lm_golden(model_dir), None, None
    if not os.path.isdir(os.path.join(model_dir, "lora-adapter")):
        raise SystemExit(f"{model_dir}: an embedding golden needs a PEFT LoRA adapter in {model_dir}/lora-adapter "
                         "(adapter_config.json + adapter_model.safetensors); use --kind lm for logits only")
    stem = os.path.basename(out_path)
    stem = stem[:-len(".golden.json")] if stem.endswith(".golden.json") else os.path.splitext(stem)[0]
    grads_name = stem + ".lora-grads.safetensors"
    golden, grads = embedding_golden(model_dir, grads_name)
    return golden, grads, grads_name


def detect_kind(model_dir):
    return "lm" if Config(os.path.join(model_dir, "config.json")).is_causal_lm else "embedding"


def write_json(path, golden, kind):
    with open(path, "w", encoding="utf-8") as f:
        if kind == "lm":
            json.dump(golden, f)
        else:
            json.dump(golden, f, indent=1)


# --------------------------------------------------------------------------------------------------------------
# --check: recompute and compare with the committed goldens
# --------------------------------------------------------------------------------------------------------------

def max_abs_diff(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        return math.inf
    return float(np.abs(a - b).max()) if a.size else 0.0


class Report:
    def __init__(self, tolerance):
        self.tolerance, self.failures = tolerance, 0

    def numbers(self, name, expected, actual):
        diff = max_abs_diff(expected, actual)
        ok = diff <= self.tolerance
        self.failures += not ok
        print(f"  {name:<44} max abs diff {diff:.2e}  {'ok' if ok else 'FAIL'}")

    def exact(self, name, expected, actual):
        ok = expected == actual
        self.failures += not ok
        print(f"  {name:<44} {'identical' if ok else 'DIFFERENT'}")


def check_embedding(report, model_dir, golden_path, grads_path):
    with open(golden_path, encoding="utf-8") as f:
        expected = json.load(f)
    actual, grads, _ = compute(model_dir, "embedding", golden_path)
    print(f"{os.path.relpath(golden_path, REPO)} against {os.path.relpath(model_dir, REPO)}")
    report.exact("keys", list(expected), list(actual))
    for key in ("model", "pooling", "padding", "query_template"):
        report.exact(key, expected[key], actual[key])
    e_cases, a_cases = expected["cases"], actual["cases"]
    report.exact("cases: text, instruction", [(c["text"], c.get("instruction")) for c in e_cases],
                 [(c["text"], c.get("instruction")) for c in a_cases])
    report.exact("cases: input_ids", [c["input_ids"] for c in e_cases], [c["input_ids"] for c in a_cases])
    report.numbers("cases: embedding", [c["embedding"] for c in e_cases], [c["embedding"] for c in a_cases])
    e_batch, a_batch = expected["batch_hidden"], actual["batch_hidden"]
    report.exact("batch_hidden: input_ids, attention_mask", (e_batch["input_ids"], e_batch["attention_mask"]),
                 (a_batch["input_ids"], a_batch["attention_mask"]))
    report.numbers("batch_hidden: last_hidden_state", e_batch["last_hidden_state"], a_batch["last_hidden_state"])
    report.numbers("lora_embeddings", expected["lora_embeddings"], actual["lora_embeddings"])
    e_nce, a_nce = expected["info_nce"], actual["info_nce"]
    report.exact("info_nce: temperature", e_nce["temperature"], a_nce["temperature"])
    report.exact("info_nce: query/positive/negative ids",
                 [e_nce[k] for k in ("query_ids", "positive_ids", "negative_ids")],
                 [a_nce[k] for k in ("query_ids", "positive_ids", "negative_ids")])
    report.numbers("info_nce: loss", e_nce["loss"], a_nce["loss"])
    committed = read_safetensors(grads_path)
    report.exact("info_nce: gradient keys", list(committed), list(grads))
    report.numbers("info_nce: gradients", np.concatenate([committed[k].flatten().numpy() for k in committed]),
                   np.concatenate([grads[k].flatten().numpy() for k in committed]))
    if e_nce["grads_file"] != a_nce["grads_file"]:
        print(f"  note: grads_file says {e_nce['grads_file']!r}; the gradients are in {a_nce['grads_file']!r}")


def check_lm(report, model_dir, golden_path):
    with open(golden_path, encoding="utf-8") as f:
        expected = json.load(f)
    actual = lm_golden(model_dir)
    print(f"{os.path.relpath(golden_path, REPO)} against {os.path.relpath(model_dir, REPO)}")
    print(f"  (committed source: {expected['source']})")
    report.exact("keys", list(expected), list(actual))
    report.exact("input_ids", expected["input_ids"], actual["input_ids"])
    report.exact("greedy_continuation_ids", expected["greedy_continuation_ids"], actual["greedy_continuation_ids"])
    report.numbers("logits", expected["logits"], actual["logits"])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", help="model folder (config.json, *.safetensors, tokenizer.model[, lora-adapter/])")
    parser.add_argument("--out", help="golden JSON to write")
    parser.add_argument("--kind", choices=["embedding", "lm"],
                        help="embedding golden (cases, batch_hidden, lora_embeddings, info_nce) or LM golden "
                             "(greedy ids, logits); default: lm for *ForCausalLM configs, else embedding")
    parser.add_argument("--check", action="store_true", help="recompute the committed goldens and compare")
    parser.add_argument("--tolerance", type=float, default=5e-5, help="--check: largest accepted abs diff")
    args = parser.parse_args()

    if args.check:
        report = Report(args.tolerance)
        check_embedding(report, os.path.join(REPO, "models", "tiny-mistral"),
                        os.path.join(FIXTURES, "tiny-mistral.golden.json"),
                        os.path.join(FIXTURES, "tiny-mistral.lora-grads.safetensors"))
        check_lm(report, os.path.join(REPO, "models", "stories260k"), os.path.join(FIXTURES, "stories260k.golden.json"))
        print(f"{report.failures} failure(s) at tolerance {args.tolerance:g}")
        return 1 if report.failures else 0

    if not args.model or not args.out:
        parser.error("give --model and --out, or --check")
    kind = args.kind or detect_kind(args.model)
    golden, grads, grads_name = compute(args.model, kind, args.out)
    write_json(args.out, golden, kind)
    print(f"wrote {args.out}")
    if grads is not None:
        grads_path = os.path.join(os.path.dirname(os.path.abspath(args.out)), grads_name)
        write_safetensors(grads_path, grads)
        print(f"wrote {grads_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
