using Trainer.Evaluation;
using Trainer.Tests.Cli;

namespace Trainer.Tests.Evaluation;

/// <summary>
/// #26.3 and #26.4: <c>eval</c>'s outputs never replace its inputs, are checked before the model is loaded, and a write
/// that fails at the end comes after the table. And the low items: an empty corpus, whitespace-only queries or
/// instruction, and options that --score-run would ignore are refused.
/// </summary>
public class EvalOutputTests
{
    private static readonly string Missing = Path.Combine(Path.GetTempPath(), "no-such-model-folder");

    [Theory]
    [InlineData("corpus.jsonl", "corpus")]
    [InlineData("queries.jsonl", "queries")]
    [InlineData("qrels/test.tsv", "qrels")]
    public void An_output_naming_an_input_is_refused_in_any_spelling_and_through_links(string file, string what)
    {
        var data = TinyBeir.Write();
        var input = Path.Combine(data, file);
        var before = File.ReadAllText(input);
        var link = Path.Combine(TestPaths.TempDir("eval-link"), "results.json");
        File.CreateSymbolicLink(link, input);
        var dotted = Path.Combine(data, "qrels", "..", file);

        foreach (var (options, option, path) in new[]
        {
            (new EvalOptions(TestPaths.TinyMistral, data) { ResultsPath = dotted }, "--output", dotted),
            (new EvalOptions(TestPaths.TinyMistral, data) { RunPath = link, MaxLength = 32 }, "--run", link),
        })
        {
            var error = Assert.Throws<ArgumentException>(() => EvalJob.Run(options, TextWriter.Null));
            Assert.Equal($"{option} {path} is the {what} file {input}; write to another file.", error.Message.Replace(Path.Combine(data, file), input));
        }
        Assert.Equal(before, File.ReadAllText(input));
    }

    [Fact]
    public void Score_run_refuses_an_output_that_is_the_run_it_scores()
    {
        var data = TinyBeir.Write();
        var run = Path.Combine(TestPaths.TempDir("eval-score"), "bm25.trec");
        File.WriteAllText(run, "q1 Q0 d01 1 2.5 bm25\n");
        var error = Assert.Throws<ArgumentException>(() => EvalJob.ScoreRun(data, "test", run, run, TextWriter.Null));
        Assert.Equal($"--output {run} is the --score-run file {run}; write to another file.", error.Message);
        Assert.Equal("q1 Q0 d01 1 2.5 bm25\n", File.ReadAllText(run));
    }

    [Fact]
    public void An_output_that_cannot_be_written_is_refused_before_the_model_is_looked_at()
    {
        var data = TinyBeir.Write();
        var file = Path.Combine(TestPaths.TempDir("eval-probe"), "a-file");
        File.WriteAllText(file, "");
        var results = Path.Combine(file, "results.json"); // its folder would be a file

        var error = Assert.Throws<InvalidOperationException>(() => EvalJob.Run(new EvalOptions(Missing, data) { ResultsPath = results }, TextWriter.Null));
        Assert.StartsWith($"--output {results}: the folder {file} is a file", error.Message);
    }

    [Fact]
    public void A_write_that_fails_at_the_end_comes_after_the_table()
    {
        var data = TinyBeir.Write();
        var folder = Path.Combine(TestPaths.TempDir("eval-late"), "out");
        var results = Path.Combine(folder, "results.json");
        var table = new StringWriter();
        // once the model is loaded, the output's folder becomes a file: the write at the end fails
        var log = new HookedWriter(line =>
        {
            if (!line.StartsWith("eval: model", StringComparison.Ordinal)) return;
            Directory.Delete(folder);
            File.WriteAllText(folder, "");
        });

        var error = Assert.Throws<InvalidOperationException>(() =>
            EvalJob.Run(new EvalOptions(TestPaths.TinyMistral, data) { ResultsPath = results, MaxLength = 32 }, log, table));

        Assert.Contains(results, error.Message);
        Assert.Matches(@"^split\s+queries\s+nDCG@10\s+Recall@100\s+MRR@10\s+MAP@100\ntest\s+3(\s+[01]\.\d{4}){4}\n$", table.ToString());
    }

    [Fact]
    public void An_empty_corpus_and_a_whitespace_only_query_are_refused_naming_the_file()
    {
        var data = TinyBeir.Write();
        File.WriteAllText(Path.Combine(data, "corpus.jsonl"), "\n");
        var error = Assert.Throws<InvalidDataException>(() => BeirDataset.Load(data, "test"));
        Assert.StartsWith($"{Path.Combine(data, "corpus.jsonl")}: no documents", error.Message);

        data = TinyBeir.Write();
        var queries = Path.Combine(data, "queries.jsonl");
        File.AppendAllText(queries, "{\"_id\": \"q9\", \"text\": \" \\t \"}\n");
        error = Assert.Throws<InvalidDataException>(() => BeirDataset.Load(data, "test"));
        Assert.Equal($"{queries}:5: query \"q9\" has an empty or whitespace-only text.", error.Message);
    }

    [Fact]
    public void A_whitespace_only_instruction_is_refused()
    {
        var error = Assert.Throws<ArgumentException>(() => new EvalOptions(TestPaths.TinyMistral, TinyBeir.Write()) { Instruction = "  " }.Validate());
        Assert.StartsWith("--instruction is whitespace only", error.Message);
    }

    [Theory]
    [InlineData("--run", "x.trec")]
    [InlineData("--top-k", "10")]
    [InlineData("--instruction", "Find it")]
    public void Score_run_refuses_options_it_would_ignore(string option, string value)
    {
        var data = TinyBeir.Write();
        var run = Path.Combine(TestPaths.TempDir("eval-score-opts"), "bm25.trec");
        File.WriteAllText(run, "q1 Q0 d01 1 2.5 bm25\n");
        var result = CliRunner.Run("eval", "--data", data, "--score-run", run, option, value);
        Assert.Equal(1, result.ExitCode);
        Assert.Equal($"error: {option} does not apply to --score-run, which scores the run file as it is; leave {option} out.\n", result.Stderr);
    }

    /// <summary>A log that calls <paramref name="onLine"/> for each line written, before keeping it.</summary>
    private sealed class HookedWriter(Action<string> onLine) : StringWriter
    {
        public override void WriteLine(string? value)
        {
            onLine(value ?? "");
            base.WriteLine(value);
        }
    }
}
