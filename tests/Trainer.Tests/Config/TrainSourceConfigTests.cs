using Trainer.Config;
using Trainer.Data;
using Trainer.Training;

namespace Trainer.Tests.Config;

public class TrainSourceConfigTests
{
    private static string Write(string yaml)
    {
        var path = Path.Combine(TestPaths.TempDir("sources"), "run.yaml");
        File.WriteAllText(path, yaml);
        return path;
    }

    private static TrainConfig Load(string train, params string[] overrides) =>
        ConfigLoader.Load(Write($"model: {{path: m}}\ndata:\n  train: {train}\n"), overrides);

    [Fact]
    public void The_e5_mixture_config_loads_with_the_papers_instructions_and_ratios()
    {
        var c = ConfigLoader.Load(Path.Combine(TestPaths.RepoRoot, "configs", "e5-mixture.yaml"));
        var sources = c.Data.Sources.ToDictionary(s => s.Name!);
        Assert.Equal(15, sources.Count); // the synthetic set and the paper's 13 public datasets (MS MARCO passage and document apart)
        Assert.Equal(["synthetic", "eli5", "hotpotqa", "fever", "miracl", "msmarco-passage", "msmarco-document", "nq", "nli", "squad", "triviaqa", "quora", "mrtydi", "dureader", "t2ranking"],
            c.Data.Sources.Select(s => s.Name));
        var weights = new Dictionary<string, double> { ["eli5"] = 0.1, ["msmarco-passage"] = 0.5, ["msmarco-document"] = 0.2, ["quora"] = 0.1, ["t2ranking"] = 0.5 };
        foreach (var (name, source) in sources) Assert.Equal(weights.GetValueOrDefault(name, 1.0), source.Weight);
        Assert.Equal(["nli", "quora"], c.Data.Sources.Where(s => s.Symmetric).Select(s => s.Name));
        Assert.Null(sources["synthetic"].Instruction); // its rows carry their own
        Assert.Equal("Provided a user question, retrieve the highest voted answers on Reddit ELI5 forum", sources["eli5"].Instruction);
        Assert.Equal("Given a Chinese search query, retrieve web passages that answer the question", sources["t2ranking"].Instruction);
        Assert.All(c.Data.Sources.Skip(1), s => Assert.False(string.IsNullOrWhiteSpace(s.Instruction)));
        Assert.Equal(Path.Combine(TestPaths.RepoRoot, "data", "e5", "eli5.jsonl"), sources["eli5"].Path);
        Assert.Equal(("same_source", 1), (c.Data.Batching, c.Data.NegativesPerQuery));
    }

    [Fact]
    public void Entries_may_be_paths_or_objects_and_the_resolved_config_reads_back_the_same()
    {
        var c = Load("[a.jsonl, {path: b.jsonl, name: bee, instruction: Find it, weight: 2.5, symmetric: true}, {path: c.parquet, weight: 1}]",
            "data.batching=same_source", "data.negatives_per_query=3");
        var dir = Path.GetDirectoryName(c.Data.Sources[0].Path)!;
        Assert.Equal([new TrainSource(Path.Combine(dir, "a.jsonl")),
                      new TrainSource(Path.Combine(dir, "b.jsonl")) { Name = "bee", Instruction = "Find it", Weight = 2.5, Symmetric = true },
                      new TrainSource(Path.Combine(dir, "c.parquet"))], c.Data.Sources);
        Assert.Equal([Path.Combine(dir, "a.jsonl"), Path.Combine(dir, "b.jsonl"), Path.Combine(dir, "c.parquet")], c.Data.Train);
        var yaml = ConfigLoader.ToYaml(c);
        var again = ConfigLoader.Load(Write(yaml));
        Assert.Equal(c.Data.Sources, again.Data.Sources);
        Assert.Equal(("same_source", 3), (again.Data.Batching, again.Data.NegativesPerQuery));
        Assert.Equal(yaml, ConfigLoader.ToYaml(again));

        // Plain paths write back as plain paths (the resolved config of every existing run is unchanged).
        var plain = Load("[a.jsonl]");
        var plainYaml = ConfigLoader.ToYaml(plain);
        Assert.Contains("- " + plain.Data.Train[0] + "\n", plainYaml);
        Assert.DoesNotContain("- path:", plainYaml);
        Assert.Equal(("mixed", 1), (plain.Data.Batching, plain.Data.NegativesPerQuery));
    }

    [Theory]
    [InlineData("[{path: a.jsonl, weight: 0}]", "data.train[0].weight = 0 is invalid; expected a finite number > 0")]
    [InlineData("[{path: a.jsonl, weight: lots}]", "data.train[0].weight = lots is invalid; expected a finite number > 0")]
    [InlineData("[a.jsonl, {path: b.jsonl, symmetric: yes}]", "data.train[1].symmetric = yes is invalid; expected true or false.")]
    [InlineData("[{path: a.jsonl, ratio: 0.5}]", "data.train[0].ratio = (a key) is invalid; expected one of the keys path, name, instruction, weight, symmetric.")]
    [InlineData("[{name: a, weight: 0.5}]", "data.train[0].path = (missing) is invalid; expected the path of a .jsonl or .parquet file.")]
    [InlineData("[{path: a.jsonl, instruction: ''}]", "data.train[0].instruction = '' is invalid; expected a non-empty string or null.")]
    [InlineData("[{path: a.jsonl, name: x}, {path: b.jsonl, name: x}]", "data.train name = x is invalid; expected a name used by one source only.")]
    [InlineData("[{path: a.jsonl, weight: [1]}]", "data.train[0].weight = a list is invalid; expected a single value.")]
    [InlineData("[]", "data.train = [] is invalid; expected at least one entry.")]
    public void A_bad_source_names_the_key_the_value_and_what_is_allowed(string train, string expected)
    {
        var e = Assert.Throws<ConfigException>(() => Load(train));
        Assert.StartsWith(expected, e.Message);
    }

    [Theory]
    [InlineData("data.batching=by_source", "data.batching = by_source is invalid; expected allowed: mixed, same_source.")]
    [InlineData("data.negatives_per_query=0", "data.negatives_per_query = 0 is invalid; expected an integer ≥ 1.")]
    [InlineData("training.micro_batch_size=41", "training.micro_batch_size = 41 is invalid; it counts sequences per forward (a row's query, positive and each negative count one each), so expected at most 5 × training.batch_size (40).")]
    public void A_bad_batching_or_negative_count_is_refused(string set, string expected)
    {
        var e = Assert.Throws<ConfigException>(() => Load("[a.jsonl]", "data.negatives_per_query=3", set));
        Assert.Equal(expected, e.Message);
    }

    /// <summary>A source's instruction fills its rows without one (a row's own wins, then data.default_instruction for plain sources).</summary>
    [Fact]
    public void A_sources_instruction_applies_to_its_rows_that_carry_none()
    {
        var dir = TestPaths.TempDir("source-instructions");
        string a = Path.Combine(dir, "a.jsonl"), b = Path.Combine(dir, "b.jsonl");
        File.WriteAllLines(a, ["""{"query": "q1", "positive": "p1"}""", """{"query": "q2", "positive": "p2", "instruction": "Own"}"""]);
        File.WriteAllLines(b, ["""{"query": "q3", "positive": "p3"}"""]);
        var result = TrainingDataReader.Read([new TrainSource(a) { Instruction = "Source A", Symmetric = true }, new TrainSource(b)], "Default", skipInvalid: false);
        Assert.Equal(["Source A", "Own", "Default"], result.Examples.Select(e => e.Instruction));
        Assert.Equal([true, true, false], result.Examples.Select(e => e.Symmetric));
        Assert.Equal([2, 1], result.SourceSizes);
    }
}
