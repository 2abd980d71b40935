using System.Text.Json;
using Trainer.Evaluation;
using Trainer.Tests.Cli;

namespace Trainer.Tests.Evaluation;

/// <summary><c>trainer eval</c> run as a separate process on <see cref="TinyBeir"/> with the tiny Mistral.</summary>
public class EvalCommandTests
{
    [Fact]
    public void Eval_prints_the_table_and_writes_results_json_and_a_run_that_trec_eval_reads_to_the_same_numbers()
    {
        var data = TinyBeir.Write();
        var folder = TestPaths.TempDir("eval-cli");
        string results = Path.Combine(folder, "out", "results.json"), runPath = Path.Combine(folder, "run.trec");

        var result = CliRunner.Run("eval", "--model", TestPaths.TinyMistral, "--data", data, "--max-length", "32", "--batch-size", "4",
            "--instruction", "Given a question, retrieve passages that answer it", "--output", results, "--run", runPath);

        Assert.True(result.ExitCode == 0, result.Stderr);
        var table = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, table.Length);
        Assert.Matches(@"^split\s+queries\s+nDCG@10\s+Recall@100\s+MRR@10\s+MAP@100$", table[0]);
        Assert.Matches(@"^test\s+3(\s+[01]\.\d{4}){4}$", table[1]);
        Assert.Contains("max_length 32 (given)", result.Stderr);
        Assert.Contains("documents 10/10 (100.0%)", result.Stderr);

        // 3 judged queries × all 10 documents (top-k 100 > corpus), each query ranked 1..10, named after the model folder
        var lines = File.ReadAllLines(runPath);
        Assert.Equal(30, lines.Length);
        Assert.All(lines, l => Assert.Matches(@"^q[123] Q0 d\d\d (10|[1-9]) -?\d\.\d+(E-\d+)? tiny-mistral$", l));
        Assert.Equal(["q1", "q2", "q3"], lines.Select(l => l.Split(' ')[0]).Distinct());
        Assert.Equal(Enumerable.Range(1, 10).Select(r => r.ToString(System.Globalization.CultureInfo.InvariantCulture)), lines.Take(10).Select(l => l.Split(' ')[3]));

        using var json = JsonDocument.Parse(File.ReadAllText(results));
        var test = json.RootElement.GetProperty("splits").GetProperty("test");
        Assert.Equal(3, test.GetProperty("queries").GetInt32());
        var metrics = test.GetProperty("metrics");
        Assert.Equal(["ndcg_at_10", "recall_at_100", "mrr_at_10", "map_at_100"], metrics.EnumerateObject().Select(p => p.Name));
        Assert.Equal(1.0, metrics.GetProperty("recall_at_100").GetDouble()); // every document is retrieved
        // the run file read back as trec_eval reads it gives the numbers of results.json
        var qrels = BeirDataset.Load(data, "test").Qrels;
        var reread = RetrievalMetrics.Evaluate(qrels, TrecRunFile.Read(runPath));
        foreach (var metric in RetrievalMetrics.Reported)
        {
            double value = metrics.GetProperty(metric.Name).GetDouble();
            Assert.InRange(value, 0, 1);
            Assert.Equal(reread.Mean[metric.Name], value, 12);
            Assert.Contains(value.ToString("F4", System.Globalization.CultureInfo.InvariantCulture), table[1]);
        }
    }

    [Fact]
    public void Max_queries_top_k_and_another_split_shape_the_run()
    {
        var data = TinyBeir.Write();
        var runPath = Path.Combine(TestPaths.TempDir("eval-cli-k"), "run.trec");
        var result = CliRunner.Run("eval", "--model", TestPaths.TinyMistral, "--data", data, "--max-length", "16", "--top-k", "3", "--max-queries", "2", "--run", runPath);
        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Equal(["q1", "q1", "q1", "q2", "q2", "q2"], File.ReadAllLines(runPath).Select(l => l.Split(' ')[0]));
        Assert.Matches(@"\ntest\s+2\s", "\n" + result.Stdout);

        var dev = CliRunner.Run("eval", "--model", TestPaths.TinyMistral, "--data", data, "--split", "dev", "--max-length", "16");
        Assert.True(dev.ExitCode == 0, dev.Stderr);
        Assert.Matches(@"\ndev\s+1\s", "\n" + dev.Stdout);
    }

    [Fact]
    public void A_bad_qrels_line_stops_with_file_and_line_before_any_model_is_loaded()
    {
        var data = TinyBeir.Write();
        var qrels = Path.Combine(data, "qrels", "test.tsv");
        File.AppendAllText(qrels, "q2\td02\tvery\n");
        var results = Path.Combine(TestPaths.TempDir("eval-cli-bad"), "results.json");

        var result = CliRunner.Run("eval", "--model", TestPaths.TinyMistral, "--data", data, "--output", results);

        Assert.Equal(1, result.ExitCode);
        Assert.Equal($"error: {qrels}:{TinyBeir.TestQrels.Length + 1}: score \"very\" is not an integer relevance grade.", result.Stderr.Trim().Split('\n')[^1]);
        Assert.DoesNotContain("   at ", result.Stderr);
        Assert.False(File.Exists(results));

        var split = CliRunner.Run("eval", "--model", TestPaths.TinyMistral, "--data", data, "--split", "validation");
        Assert.Equal(1, split.ExitCode);
        Assert.Contains("validation.tsv not found; the splits in", split.Stderr);
        Assert.Contains("are: dev, test.", split.Stderr);
    }

    [Fact]
    public void A_folder_that_is_no_model_and_no_checkpoint_is_refused()
    {
        var empty = TestPaths.TempDir("eval-no-model");
        var result = CliRunner.Run("eval", "--model", empty, "--data", TinyBeir.Write());
        Assert.Equal(1, result.ExitCode);
        Assert.Equal($"error: --model {empty} is neither a model folder (config.json) nor a checkpoint-<step> folder nor an output_dir holding checkpoints (a PEFT adapter folder goes in --adapter).",
            result.Stderr.Trim());
    }
}
