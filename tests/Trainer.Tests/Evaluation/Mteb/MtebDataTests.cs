using System.Text.Json;
using Parquet.Serialization;
using Trainer.Evaluation.Mteb;

namespace Trainer.Tests.Evaluation.Mteb;

/// <summary>The hub layouts (Parquet shards, JSONL, subsets in sub-folders) and the one-line errors for bad rows.</summary>
public class MtebDataTests
{
    public sealed class StsRow
    {
        public string? sentence1 { get; set; }
        public string? sentence2 { get; set; }
        public double score { get; set; }
    }

    [Fact]
    public async Task Parquet_shards_of_a_split_are_read_in_name_order()
    {
        var folder = TestPaths.TempDir("mteb-parquet");
        Directory.CreateDirectory(Path.Combine(folder, "data"));
        var sts = HandMadeSets.Set("STS")["rows"]!.AsArray()
            .Select(r => new StsRow { sentence1 = r!["sentence1"]!.GetValue<string>(), sentence2 = r["sentence2"]!.GetValue<string>(), score = r["score"]!.GetValue<double>() })
            .ToList();
        await ParquetSerializer.SerializeAsync(sts.Take(5), Path.Combine(folder, "data", "test-00000-of-00002.parquet"), cancellationToken: TestContext.Current.CancellationToken);
        await ParquetSerializer.SerializeAsync(sts.Skip(5), Path.Combine(folder, "data", "test-00001-of-00002.parquet"), cancellationToken: TestContext.Current.CancellationToken);
        await ParquetSerializer.SerializeAsync(sts.Take(2), Path.Combine(folder, "data", "train-00000-of-00001.parquet"), cancellationToken: TestContext.Current.CancellationToken);

        var data = MtebData.Load(folder, "test");
        var (subset, rows) = Assert.Single(data.Subsets);
        Assert.Equal("default", subset);
        Assert.Equal(sts.Select(s => s.sentence1), rows.Select(r => r.Text("sentence1")));

        // the Parquet set scores as the JSONL one does
        var task = MtebTask.Resolve("STSBenchmark", null, null);
        var result = MtebEvaluator.Evaluate(MtebTaskData.Load(task, folder, "test", new MtebOptions()), new VectorEncoder(), new MtebOptions());
        Assert.Equal(HandMadeSets.Expected("STS")["cosine_spearman"], result.MainScore("test"), 9);
    }

    [Fact]
    public void Sub_folders_are_subsets_named_like_them()
    {
        var folder = TestPaths.TempDir("mteb-subsets");
        var lines = HandMadeSets.Set("BitextMining")["rows"]!.AsArray().Select(r => r!.ToJsonString()).ToList();
        foreach (var pair in new[] { "deu-eng", "fra-eng" })
        {
            Directory.CreateDirectory(Path.Combine(folder, pair));
            File.WriteAllLines(Path.Combine(folder, pair, "test.jsonl"), lines);
        }
        var result = MtebEvaluator.Evaluate(MtebTaskData.Load(MtebTask.Resolve("Tatoeba", null, null), folder, "test", new MtebOptions()), new VectorEncoder(), new MtebOptions());
        Assert.Equal(["deu-eng", "fra-eng"], result.Scores["test"].Select(s => (string)s["hf_subset"]));
        Assert.Equal(HandMadeSets.Expected("BitextMining")["f1"], result.MainScore("test"), 12);
    }

    [Theory]
    [InlineData("{\"sentence1\": \"a\", \"sentence2\": \"b\"}", "test.jsonl:2, column \"score\": missing")]
    [InlineData("{\"sentence1\": \"a\", \"sentence2\": 3, \"score\": 1}", "test.jsonl:2, column \"sentence2\": expected a string, found Double 3")]
    [InlineData("{\"sentence1\": \"a\", \"sentence2\": \"b\", \"score\": \"high\"}", "test.jsonl:2, column \"score\": expected a number, found the string \"high\"")]
    public void A_bad_row_names_the_file_the_line_and_the_column(string badLine, string message)
    {
        var folder = TestPaths.TempDir("mteb-bad");
        File.WriteAllLines(Path.Combine(folder, "test.jsonl"), ["{\"sentence1\": \"x\", \"sentence2\": \"y\", \"score\": 2}", badLine]);
        var error = Assert.Throws<InvalidDataException>(() => MtebTaskData.Load(MtebTask.Resolve("STSBenchmark", null, null), folder, "test", new MtebOptions()));
        Assert.StartsWith(Path.Combine(folder, message), Assert.Single(error.Message.Split('\n')));
    }

    [Fact]
    public void A_missing_split_says_which_files_were_looked_for()
    {
        var folder = TestPaths.TempDir("mteb-empty");
        var error = Assert.Throws<FileNotFoundException>(() => MtebData.Load(folder, "test"));
        Assert.Contains(Path.Combine(folder, "data", "test-*.parquet"), error.Message);
        Assert.Contains(Path.Combine(folder, "test.jsonl"), error.Message);
    }

    [Fact]
    public void Classification_needs_a_train_split_and_refuses_to_evaluate_on_it()
    {
        var folder = HandMadeSets.Write("Classification");
        var task = MtebTask.Resolve("Banking77Classification", null, null);
        Assert.Contains("cannot be evaluated on it", Assert.Throws<ArgumentException>(() => MtebTaskData.Load(task, folder, "train", new MtebOptions())).Message);
        File.Delete(Path.Combine(folder, "train.jsonl"));
        Assert.Contains("no split \"train\"", Assert.Throws<FileNotFoundException>(() => MtebTaskData.Load(task, folder, "test", new MtebOptions())).Message);
    }
}
