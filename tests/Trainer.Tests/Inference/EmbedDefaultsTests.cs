using System.Text.Json;
using Trainer.Export;
using Trainer.Inference;
using Trainer.Tests.Export;
using Trainer.Text;

namespace Trainer.Tests.Inference;

/// <summary>
/// embed and tokenize take max_length and the query instruction from the checkpoint's config.yaml or the export's
/// embedding_config.json unless given, so a checkpoint, base + checkpoint, and its export give the same vectors; the
/// fixture trains with max_length 24 and default_instruction "Find the abstract".
/// </summary>
public class EmbedDefaultsTests(TrainedCheckpoint trained) : IClassFixture<TrainedCheckpoint>
{
    private const string LongQuery = "Do vaccines train the immune system to recognise a virus before an infection, and for how many years?";
    private const string LongDocument = "Vaccines expose the immune system to a harmless piece or weakened form of a pathogen, so that memory B and T cells are ready when the real pathogen appears.";

    private static string Input(params object[] rows)
    {
        var path = Path.Combine(TestPaths.TempDir("embed-defaults"), "in.jsonl");
        File.WriteAllLines(path, rows.Select(r => JsonSerializer.Serialize(r)));
        return path;
    }

    private static string Rows() => Input(
        new { id = "q", text = LongQuery, query = true },
        new { id = "d", text = LongDocument },
        new { id = "own", text = "Short.", instruction = "Retrieve it" },
        new { id = "ids", input_ids = new[] { 1, 100, 200, 2 } });

    /// <summary>Embeds into a fresh output file (the options' OutputPath is replaced) and reads it back with the log.</summary>
    private static (float[][] Vectors, string Log) Embed(EmbedOptions options)
    {
        var output = Path.Combine(Path.GetDirectoryName(options.InputPath)!, $"out-{Guid.NewGuid():N}.jsonl");
        var log = new StringWriter();
        EmbedJob.Embed(options with { OutputPath = output }, log);
        return (Checkpointing.MovedRun.ReadEmbeddings(output), log.ToString());
    }

    private static void AssertSame(float[][] expected, float[][] actual, double tolerance, string what)
    {
        for (int i = 0; i < expected.Length; i++) Assert.True(Golden.MaxAbsDiff(expected[i], actual[i]) <= tolerance, $"{what}, line {i + 1}: {Golden.MaxAbsDiff(expected[i], actual[i])}");
    }

    [Fact]
    public void Checkpoint_base_plus_checkpoint_and_export_embed_alike_without_length_or_instruction()
    {
        var input = Rows();
        var config = Path.Combine(trained.Path, "config.yaml");
        var export = ExportJob.Run(new ExportOptions(trained.Path, ["safetensors"], Path.Combine(TestPaths.TempDir("defaults-export"), "export")), TextWriter.Null).OutputDir;

        var (checkpoint, log) = Embed(new EmbedOptions(trained.Path, input, ""));
        Assert.Contains($"embed: {TestPaths.TinyMistral} + adapter {trained.Path}; max_length 24 (from {config}), query instruction \"Find the abstract\" (from {config})", log);
        var (exported, exportLog) = Embed(new EmbedOptions(export, input, ""));
        var file = Path.Combine(export, ExportJob.EmbeddingConfigFile);
        Assert.Contains($"embed: {export}; max_length 24 (from {file}), query instruction \"Find the abstract\" (from {file})", exportLog);

        AssertSame(checkpoint, Embed(new EmbedOptions(TestPaths.TinyMistral, input, "") { AdapterDir = trained.Path }).Vectors, 0, "base + adapter");
        AssertSame(checkpoint, Embed(new EmbedOptions(null, input, "") { AdapterDir = Path.GetDirectoryName(trained.Path) }).Vectors, 0, "output_dir as adapter alone");
        AssertSame(checkpoint, Embed(new EmbedOptions(TestPaths.TinyMistral, input, "") { AdapterDir = trained.Path, MaxLength = 24, Instruction = "Find the abstract" }).Vectors, 0, "the same, given");
        AssertSame(checkpoint, exported, 1e-5, "export");
    }

    [Fact]
    public void Given_length_and_instruction_win_and_a_row_instruction_wins_over_both()
    {
        var input = Rows();
        var (defaults, _) = Embed(new EmbedOptions(trained.Path, input, ""));
        var (given, log) = Embed(new EmbedOptions(trained.Path, input, "") { MaxLength = 512, Instruction = "" });
        Assert.Contains("max_length 512 (given), query instruction none (given)", log);
        Assert.True(Golden.MaxAbsDiff(defaults[0], given[0]) > 1e-3); // the query: no instruction, not cut
        Assert.True(Golden.MaxAbsDiff(defaults[1], given[1]) > 1e-3); // the document: not cut at 24 tokens
        AssertSame(defaults[2..], given[2..], 1e-6, "own instruction and input_ids"); // batched with other lengths: padding differs

        // "query": true with instruction "" is the text alone, as a document is embedded
        var (asDocument, _) = Embed(new EmbedOptions(trained.Path, Input(new { text = LongQuery }), "") { MaxLength = 512 });
        AssertSame(asDocument, given[..1], 1e-6, "query without instruction");
    }

    [Fact]
    public void Tokenize_cuts_at_the_trained_length_keeping_bos_and_eos_and_a_plain_base_keeps_512()
    {
        var export = ExportJob.Run(new ExportOptions(trained.Path, ["safetensors"], Path.Combine(TestPaths.TempDir("defaults-tokenize"), "export")), TextWriter.Null).OutputDir;
        string veryLong = string.Join(" ", Enumerable.Repeat(LongDocument, 30)); // far beyond 512 tokens
        var input = Input(new { text = veryLong }, new { text = LongQuery, query = true });
        var tokenizer = EmbeddingTokenizer.Load(TestPaths.TinyMistral);

        foreach (var (model, length, instruction) in new[] { (export, 24, "Find the abstract"), (trained.Path, 24, "Find the abstract"), (TestPaths.TinyMistral, 512, null) })
        {
            var output = input + ".ids";
            EmbedJob.Tokenize(new EmbedOptions(model, input, output));
            var ids = File.ReadAllLines(output).Select(l => Golden.Ints(JsonDocument.Parse(l).RootElement.GetProperty("input_ids"))).ToList();
            Assert.Equal(length, ids[0].Length);
            Assert.Equal((1, 2), (ids[0][0], ids[0][^1])); // BOS first; EOS last even though the text was cut
            Assert.Equal(tokenizer.Encode(veryLong, null, length), ids[0]);
            Assert.Equal(tokenizer.Encode(LongQuery, instruction, length), ids[1]);
            Assert.Equal(2, ids[1][^1]);
        }
    }
}
