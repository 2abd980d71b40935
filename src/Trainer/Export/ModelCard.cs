using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Trainer.Checkpointing;
using Trainer.Config;
using Trainer.Evaluation;
using Trainer.Models;
using Trainer.Text;
using Trainer.Training;

namespace Trainer.Export;

/// <summary>
/// The export's <c>README.md</c>, a Hugging Face model card: front matter for the Hub, then the base model, the
/// training data (file names and sha256), the hyper-parameters, the evaluations recorded with the checkpoint, the ONNX
/// parity measured at export, usage for each stack that loads the folder, and the checkpoint's full config.yaml.
/// Evaluations come from the run's <c>metrics.jsonl</c> (its <c>eval_</c> lines up to the checkpoint's step) and from a
/// <c>results.json</c> that <c>trainer eval --output</c> wrote into the checkpoint folder.
/// </summary>
public static class ModelCard
{
    public const string FileName = "README.md";

    /// <summary>The <c>trainer eval --output</c> file the card reads from a checkpoint folder.</summary>
    public const string ResultsFile = "results.json";

    /// <summary>What the card is written from: the export folder's name, the checkpoint and its resolved config, the base model's config.</summary>
    public sealed record Facts(string Name, string Checkpoint, TrainConfig Config, IDecoderConfig Model, ExportOptions Options, OnnxParity? Parity);

    /// <summary>An example query and document, formatted and tokenized as training did.</summary>
    public const string ExampleQuery = "how do vaccines work?";

    public const string ExampleDocument = "Vaccines train the immune system to recognise a pathogen.";

    private static readonly JsonSerializerOptions Literal = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static void Write(string dir, Facts facts) => File.WriteAllText(Path.Combine(dir, FileName), Render(facts));

    public static string Render(Facts f)
    {
        var state = TrainingState.Load(f.Checkpoint);
        bool safetensors = f.Options.Formats.Contains("safetensors"), onnx = f.Options.Formats.Contains("onnx");
        var card = new StringBuilder();
        card.Append("---\nlibrary_name: sentence-transformers\npipeline_tag: sentence-similarity\ntags:\n- sentence-transformers\n- feature-extraction\n- sentence-similarity\n- text-embeddings-inference\n");
        if (safetensors) card.Append("- transformers\n");
        if (onnx) card.Append("- onnx\n- transformers.js\n");
        card.Append("---\n\n");
        card.Append(CultureInfo.InvariantCulture, $"# {f.Name}\n\n");
        card.Append(CultureInfo.InvariantCulture, $"A text-embedding model: `{BaseName(f)}` fine-tuned with LoRA by Trainer (the e5-mistral recipe: InfoNCE over in-batch and hard negatives, last-token pooling), ");
        card.Append(CultureInfo.InvariantCulture, $"merged and exported by `trainer export` in {f.Options.DType} as {string.Join(" and ", f.Options.Formats)}. ");
        card.Append("A text's embedding is the final hidden state at its EOS token, L2-normalised; compare embeddings by cosine similarity.\n\n");
        Model(card, f, state);
        Training(card, f, state);
        Evaluation(card, f, state);
        if (f.Parity is { } parity) card.Append(CultureInfo.InvariantCulture, $"## ONNX parity\n\nMeasured by `trainer export` with ONNX Runtime against the TorchSharp model (base + adapter, float32) on a right-padded batch of three texts:\n\n{parity}\n\n");
        Usage(card, f, safetensors, onnx);
        card.Append("## Training config\n\n<details><summary>config.yaml of the checkpoint (resolved: every default filled in; local paths shortened to their last folder or file name)</summary>\n\n```yaml\n");
        card.Append(ConfigLoader.ToYaml(Portable(f.Config)).TrimEnd()).Append("\n```\n\n</details>\n");
        return card.ToString();
    }

    private static string BaseName(Facts f) => LastName(f.Config.Model.Path);

    private static string LastName(string path) => Path.GetFileName(Path.TrimEndingDirectorySeparator(path));

    /// <summary>
    /// The config with every path key (<see cref="ConfigKey.IsPath"/>) cut to its last name: a card is published, and
    /// the folders of the machine that trained the model mean nothing to its readers.
    /// </summary>
    private static TrainConfig Portable(TrainConfig config) =>
        ConfigSchema.Keys.Where(k => k.IsPath).Aggregate(config, (c, key) => key.Set(c, key.Get(c) switch
        {
            string path => LastName(path),
            IReadOnlyList<string> paths => paths.Select(LastName).ToList(),
            IReadOnlyList<object> sources => TrainSource.FromConfigValue(sources).Select(s => s with { Path = LastName(s.Path) }).ToList(), // data.train with source options
            var other => other,
        }));

    private static string QueryPrompt(Facts f) => SentenceTransformersFiles.QueryPrompt(f.Config, f.Config.Data.DefaultInstruction);

    private static string Quote(string text) => JsonSerializer.Serialize(text, Literal); // a valid literal in Python, JavaScript and C#

    private static void Model(StringBuilder card, Facts f, TrainingState state)
    {
        var m = f.Model;
        string instruction = f.Config.Data.DefaultInstruction is { Length: > 0 } i ? $"`{Quote(QueryPrompt(f))}` before each query (default instruction {Quote(i)}); documents have none" : "none: queries and documents are embedded as they are";
        card.Append("## Model\n\n| | |\n|---|---|\n");
        card.Append(CultureInfo.InvariantCulture, $"| base model | `{BaseName(f)}` |\n");
        card.Append(CultureInfo.InvariantCulture, $"| architecture | {m.ModelType}, {m.NumHiddenLayers} layers, hidden size {m.HiddenSize}, {m.NumAttentionHeads} attention heads / {m.NumKeyValueHeads} KV heads, vocabulary {m.VocabSize} |\n");
        card.Append(CultureInfo.InvariantCulture, $"| embedding | {m.HiddenSize} dimensions: the final hidden state at EOS, L2-normalised; cosine similarity |\n");
        card.Append(CultureInfo.InvariantCulture, $"| max_length | {f.Config.Model.MaxLength} tokens: BOS, the text's first {f.Config.Model.MaxLength - 2} tokens at most, EOS |\n");
        card.Append(CultureInfo.InvariantCulture, $"| query prompt | {instruction} |\n");
        card.Append(CultureInfo.InvariantCulture, $"| checkpoint | `{Path.GetFileName(f.Checkpoint)}` of `{Path.GetFileName(Path.GetDirectoryName(f.Checkpoint))}`: step {state.Step} of {state.TotalSteps} |\n");
        card.Append(CultureInfo.InvariantCulture, $"| weights | {f.Options.DType}; {string.Join(", ", Files(f))} |\n\n");
    }

    private static IEnumerable<string> Files(Facts f)
    {
        if (f.Options.Formats.Contains("safetensors")) yield return "`model.safetensors` (Hugging Face layout)";
        if (f.Options.Formats.Contains("onnx"))
            yield return $"`model.onnx` and `onnx/model.onnx` (the same file; opset {f.Options.Opset}; inputs `input_ids`, `attention_mask`; outputs `last_hidden_state`, `sentence_embedding`)";
    }

    private static void Training(StringBuilder card, Facts f, TrainingState state)
    {
        var c = f.Config;
        var t = c.Training;
        card.Append("## Training\n\nData (`data.train`; sha256 as recorded in the checkpoint):\n\n| file | sha256 |\n|---|---|\n");
        foreach (var file in c.Data.Train)
            card.Append(CultureInfo.InvariantCulture, $"| `{Path.GetFileName(file)}` | `{(state.DataSha256.TryGetValue(file, out var sha) ? sha : "not recorded")}` |\n");
        string I(double v) => v.ToString("G", CultureInfo.InvariantCulture);
        var rows = new List<(string, string)>
        {
            ("LoRA", $"rank {c.Lora.Rank}, alpha {I(c.Lora.Alpha)}, dropout {I(c.Lora.Dropout)}, on {string.Join(", ", c.Lora.TargetModules)}"),
            ("loss", $"InfoNCE over in-batch and hard negatives, temperature {I(c.Loss.Temperature)}" +
                     (c.Loss.FalseNegativeMargin is double m ? $"; false-negative filter, margin {I(m)} (cosine)" : "")),
            ("Matryoshka dims", c.Loss.MatryoshkaDims is { } dims
                ? $"{string.Join(", ", dims)} (weights {string.Join(", ", (c.Loss.MatryoshkaWeights ?? dims.Select(_ => 1.0).ToList()).Select(I))}); the embedding cut to any of these sizes and L2-normalised again is a trained embedding"
                : $"none: use the full {f.Model.HiddenSize} dimensions"),
            ("batch", $"{t.BatchSize} queries per step{(t.MicroBatchSize is int mb ? $", GradCache micro-batches of {mb} sequences" : "")}, on {string.Join(", ", t.ReplicaDevices())}"),
            ("steps", $"{state.Step} trained of {state.TotalSteps} (max_steps {(t.MaxSteps is int ms ? ms.ToString(CultureInfo.InvariantCulture) : "null")}, epochs {t.Epochs})"),
            ("optimizer", $"AdamW, learning rate {I(t.LearningRate)}, betas ({I(t.AdamBeta1)}, {I(t.AdamBeta2)}), epsilon {I(t.AdamEpsilon)}, weight decay {I(t.WeightDecay)}"),
            ("schedule", $"{t.LrScheduler}, {t.WarmupSteps} warm-up steps"),
            ("gradient clipping", t.MaxGradNorm is double g && g > 0 ? $"global norm {I(g)}" : "off"),
            ("sequences", $"max_length {c.Model.MaxLength}, base weights in {c.Model.DType}"),
            ("instruction", c.Data.DefaultInstruction is { } di ? $"default {Quote(di)} (rows may carry their own)" : "none by default (rows may carry their own)"),
            ("seed", t.Seed.ToString(CultureInfo.InvariantCulture)),
        };
        card.Append("\nHyper-parameters:\n\n| | |\n|---|---|\n");
        foreach (var (name, value) in rows) card.Append(CultureInfo.InvariantCulture, $"| {name} | {value} |\n");
        card.Append('\n');
    }

    private static void Evaluation(StringBuilder card, Facts f, TrainingState state)
    {
        card.Append("## Evaluation\n\n");
        var history = EvalLines(Path.Combine(Path.GetDirectoryName(f.Checkpoint)!, MetricsLog.FileName), state.Step);
        var results = Path.Combine(f.Checkpoint, ResultsFile);
        if (history.Count == 0 && !File.Exists(results))
        {
            card.Append(CultureInfo.InvariantCulture, $"No evaluation was recorded with this checkpoint. `trainer eval --model {f.Name} --data BEIR_DIR` measures the export; written with `--output CHECKPOINT/{ResultsFile}`, a result is put in the card of the next export.\n\n");
            return;
        }
        var header = "| " + string.Join(" | ", RetrievalMetrics.Reported.Select(m => m.Label)) + " |";
        var rule = "|" + string.Concat(Enumerable.Repeat("---|", RetrievalMetrics.Reported.Count));
        if (history.Count > 0)
        {
            var e = f.Config.Eval;
            card.Append(CultureInfo.InvariantCulture, $"During training (`metrics.jsonl`), retrieval on `{(e.Data is null ? "?" : Path.GetFileName(Path.TrimEndingDirectorySeparator(e.Data)))}`, split `{e.Split}`, cosine top-{e.TopK}, queries with {(e.QueryInstruction(f.Config.Data) is { } qi ? $"the instruction {Quote(qi)}" : "no instruction")}; step 0 is the base model:\n\n");
            card.Append("| step | queries ").Append(header).Append("\n|---|---").Append(rule).Append('\n');
            foreach (var line in history)
            {
                var step = line.GetProperty("step").GetInt32();
                card.Append(CultureInfo.InvariantCulture, $"| {step}{(step == state.Step ? " (this model)" : "")} | {Number(line, "eval_queries")} | ");
                card.AppendJoin(" | ", RetrievalMetrics.Reported.Select(m => Number(line, "eval_" + m.Name))).Append(" |\n");
            }
            card.Append('\n');
        }
        if (File.Exists(results))
        {
            using var json = JsonDocument.Parse(File.ReadAllText(results));
            card.Append(CultureInfo.InvariantCulture, $"`trainer eval` (`{Path.GetFileName(f.Checkpoint)}/{ResultsFile}`):\n\n| split | queries ").Append(header).Append("\n|---|---").Append(rule).Append('\n');
            foreach (var split in json.RootElement.GetProperty("splits").EnumerateObject())
            {
                var metrics = split.Value.GetProperty("metrics");
                card.Append(CultureInfo.InvariantCulture, $"| {split.Name} | {Number(split.Value, "queries")} | ");
                card.AppendJoin(" | ", RetrievalMetrics.Reported.Select(m => Number(metrics, m.Name))).Append(" |\n");
            }
            card.Append('\n');
        }
    }

    /// <summary>The evaluation lines of a run's metrics.jsonl with step ≤ <paramref name="lastStep"/>, in file order (unreadable lines skipped).</summary>
    private static List<JsonElement> EvalLines(string path, int lastStep)
    {
        var lines = new List<JsonElement>();
        if (!File.Exists(path)) return lines;
        foreach (var text in File.ReadLines(path))
        {
            try
            {
                var line = JsonDocument.Parse(text).RootElement;
                if (line.TryGetProperty("eval_" + RetrievalMetrics.Reported[0].Name, out _) && line.GetProperty("step").GetInt32() <= lastStep) lines.Add(line);
            }
            catch (JsonException)
            {
                // a torn last line of a killed run
            }
        }
        return lines;
    }

    private static string Number(JsonElement e, string name) =>
        !e.TryGetProperty(name, out var v) ? "" : v.ValueKind == JsonValueKind.Number
            ? (v.TryGetInt32(out int i) ? i.ToString(CultureInfo.InvariantCulture) : v.GetDouble().ToString("F4", CultureInfo.InvariantCulture))
            : v.ToString();

    private static void Usage(StringBuilder card, Facts f, bool safetensors, bool onnx)
    {
        string path = Quote("./" + f.Name), prompt = Quote(QueryPrompt(f)), query = Quote(ExampleQuery), document = Quote(ExampleDocument);
        int maxLength = f.Config.Model.MaxLength;
        card.Append("## Usage\n\n");
        card.Append(CultureInfo.InvariantCulture, $"Every stack below must give the same vector for the same text: BOS, the text (a query after the query prompt {prompt}), cut to {maxLength} tokens with EOS kept last, and the hidden state at that EOS. The tokenizer files (`tokenizer.json`, `tokenizer_config.json`) add BOS and EOS and truncate to {maxLength}.\n\n");

        card.Append("### sentence-transformers\n\n```python\nfrom sentence_transformers import SentenceTransformer\n\n");
        card.Append(CultureInfo.InvariantCulture, $"model = SentenceTransformer({path}{(safetensors ? "" : ", backend=\"onnx\"")})\n");
        card.Append(CultureInfo.InvariantCulture, $"queries = model.encode([{query}], prompt_name=\"query\")\ndocuments = model.encode([{document}])\nprint(model.similarity(queries, documents))\n```\n\n");
        card.Append("`prompt_name=\"query\"` puts the query prompt of `config_sentence_transformers.json` before each query; documents take none. Pooling (`1_Pooling`: last token) and normalisation (`2_Normalize`) are modules of the model.\n\n");
        if (f.Config.Loss.MatryoshkaDims is { } matryoshka)
        {
            card.Append(CultureInfo.InvariantCulture, $"Matryoshka: trained at {string.Join(", ", matryoshka)} dimensions (`matryoshka_dims` in `embedding_config.json`). `SentenceTransformer({path}, truncate_dim={matryoshka[^1]})` cuts every vector to its first {matryoshka[^1]} components; sentence-transformers cuts after the `Normalize` module, so pass `normalize_embeddings=True` to `encode` for unit vectors (cosine similarity, the model's `similarity_fn_name`, needs none). `trainer embed --dimensions d`, `trainer eval --dimensions d` and `trainer serve`'s `dimensions` field give the same cut, normalised vectors and refuse other sizes.\n\n");
        }

        if (safetensors)
        {
            card.Append("### transformers\n\n```python\nimport torch\nimport torch.nn.functional as F\nfrom transformers import AutoModel, AutoTokenizer\n\n");
            card.Append(CultureInfo.InvariantCulture, $"tokenizer = AutoTokenizer.from_pretrained({path})\nmodel = AutoModel.from_pretrained({path}).eval()\n\n");
            card.Append("def last_token_pool(hidden, attention_mask):\n    # the last attended position of each row, whichever side the padding is on\n");
            card.Append("    last = (attention_mask * torch.arange(attention_mask.shape[1])).argmax(dim=1)\n    return hidden[torch.arange(hidden.shape[0]), last]\n\n");
            card.Append(CultureInfo.InvariantCulture, $"texts = [{prompt} + {query}, {document}]\n");
            card.Append(CultureInfo.InvariantCulture, $"batch = tokenizer(texts, padding=True, truncation=True, max_length={maxLength}, return_tensors=\"pt\")\n");
            card.Append("with torch.no_grad():\n    hidden = model(**batch).last_hidden_state\nembeddings = F.normalize(last_token_pool(hidden, batch[\"attention_mask\"]), dim=-1)\nprint(embeddings[0] @ embeddings[1])\n```\n\n");
        }

        if (onnx)
        {
            card.Append("### transformers.js\n\n```js\nimport { pipeline, env } from \"@huggingface/transformers\";\n\n");
            card.Append("env.allowRemoteModels = false; // read the folder from disk\n");
            card.Append(CultureInfo.InvariantCulture, $"const extractor = await pipeline(\"feature-extraction\", {path});\n");
            card.Append(CultureInfo.InvariantCulture, $"const output = await extractor([{prompt} + {query}, {document}], {{ pooling: \"last_token\", normalize: true }});\nconsole.log(output.tolist());\n```\n\n");
            card.Append("It runs `onnx/model.onnx`. transformers.js cuts a long text after adding BOS and EOS, which drops the EOS; the model reads EOS at each row's last position whatever id is there, so a cut text gives the same vector as everywhere else. `last_token` pooling reads the last column of `last_hidden_state`, and the model repeats each row's EOS state over the padding after it, so batches of different lengths pool correctly. The model's own output `sentence_embedding` is pooled and normalised already: `const { sentence_embedding } = await model(tokenizer(texts, { padding: true, truncation: true }))` with `AutoModel` and `AutoTokenizer`.\n\n");

            var tokenizer = EmbeddingTokenizer.Load(f.Config.Model.Path).WithPoolToken(f.Config.Model.PoolToken).WithTemplate(new QueryTemplate(f.Config.Data.QueryTemplate));
            var ids = new[] { tokenizer.Encode(ExampleQuery, f.Config.Data.DefaultInstruction, maxLength), tokenizer.Encode(ExampleDocument, null, maxLength) };
            card.Append("### ONNX Runtime (C#)\n\n```csharp\nusing Microsoft.ML.OnnxRuntime;\nusing Microsoft.ML.OnnxRuntime.Tensors;\n\n");
            card.Append(CultureInfo.InvariantCulture, $"// the example query (with the query prompt) and document, as `trainer tokenize --model {f.Name}` gives them (max_length {maxLength})\n");
            card.Append(CultureInfo.InvariantCulture, $"long[][] rows = [[{string.Join(", ", ids[0])}], [{string.Join(", ", ids[1])}]];\n");
            card.Append(CultureInfo.InvariantCulture, $"using var session = new InferenceSession(\"{f.Name}/model.onnx\");\n");
            card.Append("int width = rows.Max(r => r.Length);\nvar inputIds = new DenseTensor<long>([rows.Length, width]);\nvar mask = new DenseTensor<long>([rows.Length, width]);\n");
            card.Append("for (int b = 0; b < rows.Length; b++)\n    for (int s = 0; s < rows[b].Length; s++) { inputIds[b, s] = rows[b][s]; mask[b, s] = 1; }\n");
            card.Append("using var results = session.Run([NamedOnnxValue.CreateFromTensor(\"input_ids\", inputIds), NamedOnnxValue.CreateFromTensor(\"attention_mask\", mask)]);\n");
            card.Append("var embeddings = results.First(r => r.Name == \"sentence_embedding\").AsTensor<float>(); // [batch, hidden], unit length\n```\n\n");
        }

        card.Append("### text-embeddings-inference\n\n```bash\n");
        card.Append(CultureInfo.InvariantCulture, $"docker run -p 8080:80 -v \"$PWD/{f.Name}:/model\" ghcr.io/huggingface/text-embeddings-inference:cpu-latest --model-id /model --pooling last-token\n");
        card.Append(CultureInfo.InvariantCulture, $"curl 127.0.0.1:8080/embed -H 'Content-Type: application/json' -d '{{\"inputs\": [{query}], \"prompt_name\": \"query\", \"truncate\": true}}'\n```\n\n");
        card.Append("TEI's CPU images run `model.onnx` with ONNX Runtime (`--format onnx`), its CUDA images the safetensors weights (Mistral in float16 with flash attention only). Either way it reads `tokenizer.json`, the pooling of `1_Pooling/config.json` and the prompts of `config_sentence_transformers.json` (`prompt_name`).\n\n");

        if (safetensors)
        {
            card.Append("### trainer\n\n```bash\n");
            card.Append(CultureInfo.InvariantCulture, $"trainer embed --model {f.Name} --input texts.jsonl --output embeddings.jsonl\n```\n\n");
            card.Append(CultureInfo.InvariantCulture, $"Lines are `{{\"text\": ...}}` for documents and `{{\"text\": ..., \"query\": true}}` for queries, which get the query prompt; `embed` reads max_length ({maxLength}) and the default instruction from `embedding_config.json`, and `--max-length` or `--instruction` (or a row's `\"instruction\"`) overrides them.\n\n");
        }
    }
}
