using System.Text.Json;
using Trainer.Checkpointing;
using Trainer.Config;
using Trainer.Export;
using Trainer.Text;

namespace Trainer.Tests.Export;

/// <summary>
/// The files that make an export a sentence-transformers model, and its model card: base model, data, hyper-parameters,
/// the evaluations recorded with the checkpoint (and only those up to its step), and usage for each stack.
/// </summary>
public class ModelCardTests(TrainedCheckpoint trained) : IClassFixture<TrainedCheckpoint>
{
    private static JsonElement Json(string dir, string file) => JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, file))).RootElement;

    [Fact]
    public void The_sentence_transformers_files_pool_the_last_token_and_prompt_queries_as_training_did()
    {
        var dir = ExportJob.Run(new ExportOptions(trained.Path, ["safetensors"], TestPaths.TempDir("export-st")), TextWriter.Null).OutputDir;
        var modules = Json(dir, "modules.json").EnumerateArray().Select(m => (m.GetProperty("path").GetString(), m.GetProperty("type").GetString())).ToList();
        Assert.Equal([("", "sentence_transformers.models.Transformer"), ("1_Pooling", "sentence_transformers.models.Pooling"), ("2_Normalize", "sentence_transformers.models.Normalize")], modules);

        var pooling = Json(dir, "1_Pooling/config.json");
        Assert.Equal(32, pooling.GetProperty("word_embedding_dimension").GetInt32()); // tiny-mistral's hidden size
        var modes = pooling.EnumerateObject().Where(p => p.Name.StartsWith("pooling_mode_", StringComparison.Ordinal)).Where(p => p.Value.GetBoolean()).Select(p => p.Name);
        Assert.Equal(["pooling_mode_lasttoken"], modes);
        Assert.True(pooling.GetProperty("include_prompt").GetBoolean());

        var bert = Json(dir, "sentence_bert_config.json");
        Assert.Equal(24, bert.GetProperty("max_seq_length").GetInt32()); // the fixture's training max_length
        Assert.False(bert.GetProperty("do_lower_case").GetBoolean());

        var st = Json(dir, "config_sentence_transformers.json");
        var prompt = st.GetProperty("prompts").GetProperty("query").GetString()!;
        Assert.Equal("Instruct: Find the abstract\nQuery: ", prompt);
        Assert.Equal(PromptFormat.Format("what is a vaccine?", "Find the abstract"), prompt + "what is a vaccine?"); // sentence-transformers prepends it
        Assert.Equal("", st.GetProperty("prompts").GetProperty("document").GetString());
        Assert.Equal(JsonValueKind.Null, st.GetProperty("default_prompt_name").ValueKind);
        Assert.Equal("cosine", st.GetProperty("similarity_fn_name").GetString());
        Assert.Equal("", QueryTemplate.E5.Prompt(null)); // no default instruction: queries as they are
    }

    [Fact]
    public void The_card_names_the_base_the_data_the_hyper_parameters_and_the_evaluations_up_to_the_checkpoint()
    {
        // A run folder with evaluations at steps 0 and 2 (the checkpoint's) and 3 (after it), and a trainer eval result in the checkpoint.
        var run = TestPaths.TempDir("card-run");
        var checkpoint = Path.Combine(run, Path.GetFileName(trained.Path));
        Directory.CreateDirectory(checkpoint);
        foreach (var file in Directory.GetFiles(trained.Path)) File.Copy(file, Path.Combine(checkpoint, Path.GetFileName(file)));
        File.WriteAllLines(Path.Combine(run, "metrics.jsonl"),
        [
            """{"step":0,"eval_ndcg_at_10":0.01234,"eval_recall_at_100":0.1,"eval_mrr_at_10":0.011,"eval_map_at_100":0.012,"eval_queries":5,"eval_runtime_s":1.5}""",
            """{"step":1,"epoch":0,"loss":3.2,"learning_rate":0.01,"grad_norm":1,"samples_per_s":1,"tokens_per_s":1,"elapsed_s":1}""",
            """{"step":2,"eval_ndcg_at_10":0.56789,"eval_recall_at_100":0.9,"eval_mrr_at_10":0.5,"eval_map_at_100":0.45,"eval_queries":5,"eval_runtime_s":1.5}""",
            """{"step":3,"eval_ndcg_at_10":0.99999,"eval_recall_at_100":1,"eval_mrr_at_10":1,"eval_map_at_100":1,"eval_queries":5,"eval_runtime_s":1.5}""",
            """{"step":4,"eval_ndcg""", // torn by a kill
        ]);
        File.WriteAllText(Path.Combine(checkpoint, ModelCard.ResultsFile),
            """{"splits": {"test": {"queries": 300, "metrics": {"ndcg_at_10": 0.4321, "recall_at_100": 0.8765, "mrr_at_10": 0.4, "map_at_100": 0.3}, "per_query": {}}}}""");
        Assert.Null(CheckpointStore.Validate(checkpoint));

        var output = Path.Combine(TestPaths.TempDir("card-export"), "my-embedder");
        var result = ExportJob.Run(new ExportOptions(checkpoint, ["safetensors", "onnx"], output), TextWriter.Null);
        var card = File.ReadAllText(Path.Combine(result.OutputDir, "README.md"));

        Assert.StartsWith("---\nlibrary_name: sentence-transformers\n", card);
        Assert.Contains("# my-embedder", card);
        Assert.Contains("| base model | `tiny-mistral` |", card);
        Assert.Contains("mistral, 2 layers, hidden size 32", card);
        Assert.Contains($"| `train.jsonl` | `{Trainer.Checkpointing.DurableFiles.Sha256(TrainingFixtureData())}` |", card);
        Assert.Contains("| LoRA | rank 4, alpha 8, dropout 0.1, on q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj |", card);
        Assert.Contains("| steps | 2 trained of 2 (max_steps 2, epochs 1) |", card);
        Assert.Contains("AdamW, learning rate 0.01", card);
        Assert.Contains("| loss | InfoNCE over in-batch and hard negatives, temperature 0.02 |", card);

        Assert.Contains("| 0 | 5 | 0.0123 | 0.1000 | 0.0110 | 0.0120 |", card);
        Assert.Contains("| 2 (this model) | 5 | 0.5679 | 0.9000 | 0.5000 | 0.4500 |", card);
        Assert.DoesNotContain("0.99999", card);
        Assert.DoesNotContain("| 3 ", card);
        Assert.Contains("| test | 300 | 0.4321 | 0.8765 | 0.4000 | 0.3000 |", card);

        Assert.Contains("SentenceTransformer(\"./my-embedder\")", card);
        Assert.Contains("prompt_name=\"query\"", card);
        Assert.Contains("AutoModel.from_pretrained(\"./my-embedder\")", card);
        Assert.Contains("pooling: \"last_token\", normalize: true", card);
        Assert.Contains("new InferenceSession(\"my-embedder/model.onnx\")", card);
        Assert.Contains("text-embeddings-inference", card);
        Assert.Contains("\"Instruct: Find the abstract\\nQuery: \" + \"how do vaccines work?\"", card);
        Assert.Contains("onnx parity", card, StringComparison.OrdinalIgnoreCase);
        Assert.Contains(": ok", card);

        // The C# snippet's ids are what trainer tokenize gives for the example query (with the prompt) and document.
        var tokenizer = EmbeddingTokenizer.Load(TestPaths.TinyMistral);
        var query = tokenizer.Encode(ModelCard.ExampleQuery, "Find the abstract", 24);
        var document = tokenizer.Encode(ModelCard.ExampleDocument, null, 24);
        Assert.Contains($"long[][] rows = [[{string.Join(", ", query)}], [{string.Join(", ", document)}]];", card);

        // The card is published: it names the model, data and evaluation folders, and shows no path of this machine.
        var config = ConfigLoader.Load(Path.Combine(checkpoint, "config.yaml"));
        var portable = config with
        {
            OutputDir = Path.GetFileName(config.OutputDir),
            Model = config.Model with { Path = "tiny-mistral" },
            Data = config.Data with { Train = ["train.jsonl"] },
        };
        Assert.Contains(ConfigLoader.ToYaml(portable).TrimEnd(), card);
        Assert.Contains("  path: tiny-mistral\n", card);
        foreach (var local in new[] { TestPaths.TinyMistral, config.OutputDir, config.Data.Train[0], checkpoint })
            Assert.DoesNotContain(local, card);
        Assert.Contains("trainer embed --model my-embedder --input texts.jsonl --output embeddings.jsonl\n", card);
    }

    [Fact]
    public void Without_evaluations_the_card_says_how_to_measure_the_export()
    {
        var dir = ExportJob.Run(new ExportOptions(trained.Path, ["onnx"], TestPaths.TempDir("card-noeval")), TextWriter.Null).OutputDir;
        var card = File.ReadAllText(Path.Combine(dir, "README.md"));
        Assert.Contains("No evaluation was recorded with this checkpoint.", card);
        Assert.DoesNotContain("### transformers\n", card);                 // an ONNX-only export has no safetensors weights
        Assert.Contains("SentenceTransformer(", card);
        Assert.Contains("backend=\"onnx\"", card);
    }

    private static string TrainingFixtureData() => Trainer.Tests.Training.TrainingFixture.DataFile;
}
