using Trainer.Config;

namespace Trainer.Tests.Config;

public class ConfigLoaderTests
{
    private static string Write(string yaml)
    {
        var dir = TestPaths.TempDir("config");
        var path = Path.Combine(dir, "run.yaml");
        File.WriteAllText(path, yaml);
        return path;
    }

    private const string Minimal = "model: {path: models/base}\ndata: {train: [data/a.jsonl]}\n";

    [Fact]
    public void Defaults_fill_every_key_and_paths_resolve_against_the_config_folder()
    {
        var path = Write(Minimal);
        var dir = Path.GetDirectoryName(path)!;
        var c = ConfigLoader.Load(path);
        Assert.Equal(Path.Combine(dir, "models", "base"), c.Model.Path);
        Assert.Equal([Path.Combine(dir, "data", "a.jsonl")], c.Data.Train);
        Assert.Equal(Path.Combine(dir, "checkpoints", "run"), c.OutputDir);
        Assert.Equal(("float32", 512), (c.Model.DType, c.Model.MaxLength));
        Assert.Equal((16, 32.0, 0.1), (c.Lora.Rank, c.Lora.Alpha, c.Lora.Dropout));
        Assert.Equal(["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"], c.Lora.TargetModules);
        Assert.Null(c.Lora.InitAdapter);
        Assert.Equal(0.02, c.Loss.Temperature);
        Assert.Equal((8, (int?)null, 1, 1e-4, "linear", 0, 0.0, (double?)1.0, 42, "cpu", 1),
            (c.Training.BatchSize, c.Training.MaxSteps, c.Training.Epochs, c.Training.LearningRate, c.Training.LrScheduler, c.Training.WarmupSteps,
             c.Training.WeightDecay, c.Training.MaxGradNorm, c.Training.Seed, c.Training.Device, c.Training.LogEverySteps));
        Assert.Equal((100, 3), (c.Checkpoint.EverySteps, c.Checkpoint.KeepLast));
        Assert.True(c.Data.Shuffle);
        Assert.False(c.Data.SkipInvalid);
    }

    [Fact]
    public void Set_overrides_apply_before_validation()
    {
        var c = ConfigLoader.Load(Write(Minimal + "training: {max_steps: 5}\n"),
            ["training.max_steps=null", "training.lr_scheduler=cosine", "lora.target_modules=[q_proj, v_proj]", "training.max_grad_norm=null", "data.default_instruction=Find it"]);
        Assert.Null(c.Training.MaxSteps);
        Assert.Equal("cosine", c.Training.LrScheduler);
        Assert.Equal(["q_proj", "v_proj"], c.Lora.TargetModules);
        Assert.Null(c.Training.MaxGradNorm);
        Assert.Equal("Find it", c.Data.DefaultInstruction);
    }

    [Theory]
    [InlineData("training:\n  learning_rat: 0.1\n", "Unknown config key 'training.learning_rat'. Did you mean 'training.learning_rate'?")]
    [InlineData("lora:\n  rnk: 4\n", "Did you mean 'lora.rank'?")]
    [InlineData("outptu_dir: x\n", "Did you mean 'output_dir'?")]
    [InlineData("training:\n  batch_size: many\n", "training.batch_size = many is invalid; expected an integer ≥ 1")]
    [InlineData("training:\n  batch_size: 0\n", "training.batch_size = 0 is invalid")]
    [InlineData("training:\n  lr_scheduler: step\n", "training.lr_scheduler = step is invalid; expected allowed: constant, linear, cosine")]
    [InlineData("lora:\n  dropout: 1.5\n", "lora.dropout = 1.5 is invalid; expected a number ≥ 0 and ≤ 0.999")]
    [InlineData("loss:\n  temperature: 0\n", "loss.temperature = 0 is invalid; expected a number > 0")]
    [InlineData("data:\n  shuffle: maybe\n", "data.shuffle = maybe is invalid; expected true or false")]
    [InlineData("model:\n  dtype: int8\n", "model.dtype = int8 is invalid; expected allowed: float32, float16, bfloat16")]
    [InlineData("lora:\n  compute_dtype: bfloat16\n", "lora.compute_dtype = bfloat16 is invalid; expected allowed: float32, model")]
    [InlineData("lora:\n  target_modules: [q_proj, lm_head]\n", "lora.target_modules = [lm_head] is invalid")]
    [InlineData("training: 5\n", "training must be a mapping with keys training.batch_size")]
    public void Errors_name_the_key_the_value_and_what_is_allowed(string yaml, string expected)
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load(Write(yaml), ["model.path=models/base", "data.train=[data/a.jsonl]"]));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Missing_required_keys_are_named()
    {
        Assert.Contains("model.path is required", Assert.Throws<ConfigException>(() => ConfigLoader.Load(Write("data: {train: [a.jsonl]}\n"))).Message);
        Assert.Contains("data.train is required", Assert.Throws<ConfigException>(() => ConfigLoader.Load(Write("model: {path: m}\n"))).Message);
        Assert.Contains("--set training is invalid", Assert.Throws<ConfigException>(() => ConfigLoader.Load(Write(Minimal), ["training"])).Message);
    }

    [Fact]
    public void Resolved_config_round_trips()
    {
        var original = ConfigLoader.Load(Write(Minimal), ["training.max_steps=7", "lora.init_adapter=adapters/x"]);
        var again = ConfigLoader.Load(Write(ConfigLoader.ToYaml(original)));
        Assert.Equal(ConfigLoader.ToYaml(original), ConfigLoader.ToYaml(again));
        Assert.Equal(7, again.Training.MaxSteps);
        Assert.Equal(original.Lora.InitAdapter, again.Lora.InitAdapter);
    }

    [Fact]
    public void Lora_compute_dtype_defaults_to_float32_and_reaches_the_adapters_settings()
    {
        var defaults = ConfigLoader.Load(Write(Minimal));
        Assert.Equal("float32", defaults.Lora.ComputeDtype);
        Assert.False(defaults.Lora.ToSettings().InModelDtype);
        var set = ConfigLoader.Load(Write(Minimal), ["lora.compute_dtype=model"]);
        Assert.True(set.Lora.ToSettings().InModelDtype);
        Assert.True(ConfigLoader.Load(Write(ConfigLoader.ToYaml(set))).Lora.ToSettings().InModelDtype);
    }

    [Fact]
    public void Adam_betas_and_epsilon_default_to_pytorchs_and_round_trip()
    {
        var defaults = ConfigLoader.Load(Write(Minimal));
        Assert.Equal((0.9, 0.999, 1e-8), (defaults.Training.AdamBeta1, defaults.Training.AdamBeta2, defaults.Training.AdamEpsilon));
        var set = ConfigLoader.Load(Write(Minimal), ["training.adam_beta1=0", "training.adam_beta2=0.95", "training.adam_epsilon=1.0e-6"]);
        Assert.Equal((0.0, 0.95, 1e-6), (set.Training.AdamBeta1, set.Training.AdamBeta2, set.Training.AdamEpsilon));
        var again = ConfigLoader.Load(Write(ConfigLoader.ToYaml(set)));
        Assert.Equal((0.0, 0.95, 1e-6), (again.Training.AdamBeta1, again.Training.AdamBeta2, again.Training.AdamEpsilon));
    }

    [Theory]
    [InlineData("training.adam_beta1=1", "training.adam_beta1 = 1 is invalid; expected a number ≥ 0 and < 1")]
    [InlineData("training.adam_beta1=-0.1", "training.adam_beta1 = -0.1 is invalid; expected a number ≥ 0 and < 1")]
    [InlineData("training.adam_beta2=1.5", "training.adam_beta2 = 1.5 is invalid; expected a number ≥ 0 and < 1")]
    [InlineData("training.adam_epsilon=0", "training.adam_epsilon = 0 is invalid; expected a number > 0")]
    [InlineData("training.adam_epsilon=null", "training.adam_epsilon = null is invalid; expected a number > 0")]
    public void Adam_values_out_of_range_name_the_key_the_value_and_the_range(string set, string expected)
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load(Write(Minimal), [set]));
        Assert.Contains(expected, e.Message);
    }
}
