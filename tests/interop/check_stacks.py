#!/usr/bin/env python3
"""Compares what the Python serving stacks compute from a `trainer export` (and the checkpoint's PEFT adapter)
with `trainer embed`. Driven by tests/interop/run.sh; dev-only.

  texts  --export DIR --output FILE   writes the texts both sides embed: queries (with the export's default
                                      instruction), documents, and one document far longer than max_length
                                      (truncation must keep EOS, or last-token pooling reads another token)
  check  --root OUT --models A B      for each model folder OUT/A: export/, run/ (the checkpoint), trainer.jsonl
                                      (trainer embed --adapter), base.jsonl (the base model, to show that the
                                      adapter changes the vectors), prints one line per stack and exits 1 on any
                                      failure.

Stacks: sentence-transformers (encode with prompt_name="query" for queries), transformers AutoModel +
AutoTokenizer with last-token pooling, PEFT (PeftModel.from_pretrained(AutoModel.from_pretrained(base), checkpoint)),
and onnxruntime on model.onnx. Tolerance 1e-4 (float32 end to end; typical differences are ~1e-7).
"""
import argparse
import json
import os
import sys

TOLERANCE = 1e-4

QUERIES = [
    "ALDH1 expression is associated with poorer prognosis for breast cancer primary tumors.",
    "Vitamin D deficiency is unrelated to birth weight.",
    "how do vaccines train the immune system?",
]
DOCUMENTS = [
    "Vaccines expose the immune system to a harmless piece or weakened form of a pathogen.",
    "Sourdough bread rises because wild yeast and lactic acid bacteria ferment the flour.",
    "Aldehyde dehydrogenase 1 (ALDH1) is a marker of normal and malignant human mammary stem cells.",
    " ".join(["A very long abstract about stem cells, tumours and the immune system, repeated until it is "
              "far longer than the training length."] * 20),
]


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def write_texts(args):
    config = json.load(open(os.path.join(args.export, "embedding_config.json"), encoding="utf-8"))
    instruction = config.get("default_instruction") or ""
    with open(args.output, "w", encoding="utf-8") as f:
        for i, q in enumerate(QUERIES):
            f.write(json.dumps({"id": f"q{i}", "text": q, "instruction": instruction}) + "\n")
        for i, d in enumerate(DOCUMENTS):
            f.write(json.dumps({"id": f"d{i}", "text": d}) + "\n")


def last_token_pool(hidden, mask):
    import torch
    last = mask.sum(dim=1) - 1  # right padding: the last real token is EOS
    pooled = hidden[torch.arange(hidden.shape[0]), last]
    return torch.nn.functional.normalize(pooled.float(), dim=-1)


def hf_embed(model, tokenizer, texts, max_length):
    import torch
    batch = tokenizer(texts, padding=True, truncation=True, max_length=max_length, return_tensors="pt")
    with torch.no_grad():
        hidden = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).last_hidden_state
    return last_token_pool(hidden, batch["attention_mask"]), batch


def load_float32(cls, path):
    """cls.from_pretrained in float32: transformers 5 names the argument dtype, earlier versions torch_dtype."""
    import torch
    try:
        return cls.from_pretrained(path, dtype=torch.float32)
    except TypeError:
        return cls.from_pretrained(path, torch_dtype=torch.float32)


def max_abs(a, b):
    import numpy as np
    return float(np.abs(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)).max())


def check(args):
    import numpy as np
    from transformers import AutoModel, AutoTokenizer
    failures = 0

    def report(model, stack, diff, note=""):
        nonlocal failures
        ok = diff <= TOLERANCE
        failures += 0 if ok else 1
        print(f"{model:13s} {stack:58s} max |diff| vs trainer embed = {diff:.3e}  {'ok' if ok else 'FAILED'} {note}", flush=True)

    def attempt(model, stack, run):
        """Runs one stack's check; an exception fails that stack alone, so one run reports every stack."""
        nonlocal failures
        try:
            run()
        except Exception as e:  # noqa: BLE001 (any failure of a stack is a result to report)
            failures += 1
            print(f"{model:13s} {stack:58s} FAILED: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}", flush=True)

    for name in args.models:
        root = os.path.join(args.root, name)
        export = os.path.join(root, "export")
        config = json.load(open(os.path.join(export, "embedding_config.json"), encoding="utf-8"))
        max_length = config["max_length"]
        texts = read_jsonl(os.path.join(root, "texts.jsonl"))
        queries = [t["text"] for t in texts if t["id"].startswith("q")]
        docs = [t["text"] for t in texts if t["id"].startswith("d")]
        trainer = {t["id"]: t["embedding"] for t in read_jsonl(os.path.join(root, "trainer.jsonl"))}
        base = {t["id"]: t["embedding"] for t in read_jsonl(os.path.join(root, "base.jsonl"))}
        ref_q = np.array([trainer[t["id"]] for t in texts if t["id"].startswith("q")])
        ref_d = np.array([trainer[t["id"]] for t in texts if t["id"].startswith("d")])
        prompt = config["query_template"].replace("{instruction}", config.get("default_instruction") or "").replace("{query}", "")
        prompted = [prompt + q for q in queries]  # queries as training formatted them, for the stacks that take raw text
        adapter_effect = max_abs(np.array([base[k] for k in trainer]), np.array(list(trainer.values())))
        print(f"{name:13s} adapter changes trainer's vectors by up to {adapter_effect:.3e} (so a silently unloaded adapter would fail)")

        def sentence_transformers():
            # the folder as is, queries through the "query" prompt
            from sentence_transformers import SentenceTransformer
            st = SentenceTransformer(export, device="cpu")
            st_q = st.encode(queries, prompt_name="query", convert_to_numpy=True)
            st_d = st.encode(docs, convert_to_numpy=True)
            report(name, "sentence-transformers encode(prompt_name=\"query\") + docs", max(max_abs(st_q, ref_q), max_abs(st_d, ref_d)))

        def transformers():
            # AutoModel + AutoTokenizer on the merged export, last-token pooling
            nonlocal failures
            tokenizer = AutoTokenizer.from_pretrained(export)
            model = load_float32(AutoModel, export).eval()
            hf_q, _ = hf_embed(model, tokenizer, prompted, max_length)
            hf_d, batch = hf_embed(model, tokenizer, docs, max_length)
            pooled_id = config["eos_token_id"]  # the token the trainer appends and pools (Qwen: <|endoftext|>, not eos_token)
            eos_kept = all(int(ids[m.sum() - 1]) == pooled_id for ids, m in zip(batch["input_ids"], batch["attention_mask"]))
            report(name, "transformers AutoModel + AutoTokenizer (export)", max(max_abs(hf_q.numpy(), ref_q), max_abs(hf_d.numpy(), ref_d)),
                   f"(truncated doc ends in EOS: {eos_kept})")
            if not eos_kept:
                failures += 1

        def peft():
            # the checkpoint's adapter on AutoModel of the *base* checkpoint, whatever its key prefix
            from peft import PeftModel
            checkpoint = newest_checkpoint(os.path.join(root, "run"))
            base_dir = os.path.join(root, "base") if os.path.isdir(os.path.join(root, "base")) else os.path.join("models", name)
            peft_model = PeftModel.from_pretrained(load_float32(AutoModel, base_dir), checkpoint).eval()
            base_tokenizer = AutoTokenizer.from_pretrained(export)  # the export's: it appends the pooled token
            pq, _ = hf_embed(peft_model, base_tokenizer, prompted, max_length)
            pd, _ = hf_embed(peft_model, base_tokenizer, docs, max_length)
            report(name, "PEFT from_pretrained(AutoModel(base), checkpoint)", max(max_abs(pq.numpy(), ref_q), max_abs(pd.numpy(), ref_d)))

        def onnxruntime():
            # model.onnx with the export's tokenizer
            import onnxruntime as ort
            tokenizer = AutoTokenizer.from_pretrained(export)
            session = ort.InferenceSession(os.path.join(export, "model.onnx"), providers=["CPUExecutionProvider"])
            outs = []
            for group in (prompted, docs):
                batch = tokenizer(group, padding=True, truncation=True, max_length=max_length, return_tensors="np")
                feeds = {i.name: batch[i.name].astype(np.int64) for i in session.get_inputs()}
                outs.append(session.run(["sentence_embedding"], feeds)[0])
            report(name, "onnxruntime model.onnx (sentence_embedding)", max(max_abs(outs[0], ref_q), max_abs(outs[1], ref_d)))

        attempt(name, "sentence-transformers", sentence_transformers)
        attempt(name, "transformers AutoModel + AutoTokenizer (export)", transformers)
        attempt(name, "PEFT from_pretrained(AutoModel(base), checkpoint)", peft)
        attempt(name, "onnxruntime model.onnx", onnxruntime)

    print("interop: all stacks agree with trainer embed" if failures == 0 else f"interop: {failures} failure(s)")
    return 1 if failures else 0


def newest_checkpoint(run_dir):
    steps = [d for d in os.listdir(run_dir) if d.startswith("checkpoint-")]
    return os.path.join(run_dir, max(steps, key=lambda d: int(d.split("-")[1])))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    t = sub.add_parser("texts")
    t.add_argument("--export", required=True)
    t.add_argument("--output", required=True)
    c = sub.add_parser("check")
    c.add_argument("--root", required=True)
    c.add_argument("--models", nargs="+", required=True)
    args = parser.parse_args()
    if args.command == "texts":
        write_texts(args)
        return 0
    return check(args)


if __name__ == "__main__":
    sys.exit(main())
