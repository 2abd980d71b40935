using Trainer.Config;

namespace Trainer.Tests.Config;

/// <summary>The eval section and checkpoint.keep_best: defaults, paths, and the errors that name the key.</summary>
public class EvalConfigTests
{
    private static string Write(string yaml)
    {
        var path = Path.Combine(TestPaths.TempDir("eval-config"), "run.yaml");
        File.WriteAllText(path, "model: {path: models/base}\ndata: {train: [data/a.jsonl], default_instruction: Retrieve the abstract}\n" + yaml);
        return path;
    }

    [Fact]
    public void Evaluation_is_off_by_default_and_eval_data_resolves_against_the_config_folder()
    {
        var off = ConfigLoader.Load(Write(""));
        Assert.Equal(new EvalSection(), off.Eval);
        Assert.Equal(((string?)null, "dev", 100, (int?)null, (string?)null, 100, 16),
            (off.Eval.Data, off.Eval.Split, off.Eval.EverySteps, off.Eval.MaxQueries, off.Eval.Instruction, off.Eval.TopK, off.Eval.BatchSize));
        Assert.Null(off.Checkpoint.KeepBest);

        var path = Write("eval: {data: ../beir/scifact, split: test, every_steps: 50, max_queries: 30, top_k: 10, batch_size: 4}\n");
        var on = ConfigLoader.Load(path);
        Assert.Equal(Path.GetFullPath(Path.Combine(Path.GetDirectoryName(path)!, "..", "beir", "scifact")), on.Eval.Data);
        Assert.Equal(("test", 50, (int?)30, 10, 4), (on.Eval.Split, on.Eval.EverySteps, on.Eval.MaxQueries, on.Eval.TopK, on.Eval.BatchSize));

        // The resolved config (saved with each checkpoint) reads back the same.
        var saved = Path.Combine(TestPaths.TempDir("eval-saved"), "config.yaml");
        File.WriteAllText(saved, ConfigLoader.ToYaml(on));
        Assert.Equal(on.Eval, ConfigLoader.Load(saved).Eval);
    }

    [Fact]
    public void The_query_instruction_defaults_to_data_default_instruction_and_an_empty_one_means_none()
    {
        Assert.Equal("Retrieve the abstract", ConfigLoader.Load(Write("")).Eval.QueryInstruction(ConfigLoader.Load(Write("")).Data));
        var own = ConfigLoader.Load(Write("eval: {instruction: Find the claim's evidence}\n"));
        Assert.Equal("Find the claim's evidence", own.Eval.QueryInstruction(own.Data));
        var none = ConfigLoader.Load(Write("eval: {instruction: ''}\n"));
        Assert.Null(none.Eval.QueryInstruction(none.Data));
    }

    [Theory]
    [InlineData("checkpoint: {keep_best: ndcg_at_10}\n",
        "checkpoint.keep_best = ndcg_at_10 needs eval.data: a BEIR folder to evaluate the checkpoints on.")]
    [InlineData("eval: {data: beir}\ncheckpoint: {keep_best: ndcg}\n",
        "checkpoint.keep_best = ndcg is invalid; expected one of ndcg_at_10, recall_at_100, mrr_at_10, map_at_100, or null.")]
    [InlineData("eval: {data: beir, every_steps: 30}\ncheckpoint: {every_steps: 100, keep_best: mrr_at_10}\n",
        "checkpoint.keep_best = mrr_at_10 needs an evaluation at every checkpoint: checkpoint.every_steps (100) must be a multiple of eval.every_steps (30).")]
    [InlineData("eval: {data: beir, every_steps: 0}\n", "eval.every_steps = 0 is invalid; expected an integer ≥ 1.")]
    [InlineData("eval: {data: beir, max_queries: 0}\n", "eval.max_queries = 0 is invalid; expected an integer ≥ 1 or null.")]
    [InlineData("eval: {data: beir, top_k: 0}\n", "eval.top_k = 0 is invalid; expected an integer ≥ 1.")]
    [InlineData("eval: {dataset: beir}\n", "Unknown config key 'eval.dataset'. Did you mean 'eval.data'?")]
    public void Errors_name_the_key_the_value_and_what_is_allowed(string yaml, string expected)
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load(Write(yaml)));
        Assert.Equal(expected, e.Message);
    }

    [Fact]
    public void Keep_best_with_an_evaluation_at_every_checkpoint_is_valid()
    {
        var c = ConfigLoader.Load(Write("eval: {data: beir, every_steps: 50}\ncheckpoint: {every_steps: 100, keep_best: map_at_100}\n"));
        Assert.Equal("map_at_100", c.Checkpoint.KeepBest);
    }
}
