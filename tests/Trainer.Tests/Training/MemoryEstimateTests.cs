using Trainer.Config;
using Trainer.Models;
using Trainer.Training;
using static TorchSharp.torch;

namespace Trainer.Tests.Training;

public class MemoryEstimateTests
{
    [Fact]
    public void Parameter_counts_match_a_loaded_model()
    {
        var config = TrainingFixture.Config(TestPaths.TempDir("estimate"));
        using var model = PretrainedLoader.Load(TestPaths.TinyMistral, ScalarType.Float32, lora: config.Lora.ToSettings());
        long lora = model.TrainableParameters().Sum(p => p.numel());
        Assert.Equal(model.parameters().Sum(p => p.numel()) - lora, MemoryEstimate.Parameters(model.Family));
        Assert.Equal(lora, MemoryEstimate.LoraParameters(model.Family, config.Lora.ToSettings()));
    }

    [Fact]
    public void The_7b_recipe_fits_eight_80_gb_gpus_only_with_gradcache_and_checkpointing()
    {
        var config = ConfigLoader.Load(Path.Combine(TestPaths.RepoRoot, "configs", "e5-mistral-7b.yaml"));
        Assert.Equal(2048, config.Training.BatchSize);
        var model = ModelFamilies.Load(Path.Combine(config.Model.Path, "config.json"));
        var estimate = MemoryEstimate.For(config, model);
        Assert.Equal(8, estimate.ReplicaCount);
        Assert.Equal(256, estimate.RowsPerDevice);
        Assert.InRange(estimate.WeightBytes / (double)(1L << 30), 13.0, 13.5); // 7.1B bf16 parameters
        Assert.True(estimate.Total < 80L << 30, estimate.Table());
        Assert.True(estimate.ActivationsCheckpointed > 80L << 30); // checkpointing alone is not enough
        Assert.True(estimate.ActivationsGradCache > 80L << 30);    // nor is GradCache alone
        Assert.Contains("<- this config", estimate.Table());
    }

    /// <summary>
    /// <c>lora.compute_dtype: model</c> on the 7B recipe's bf16 base: each adapter keeps its dropped input in bf16 (2 + 1
    /// bytes per input feature instead of 4 + 1) and its rank-r intermediate in bf16: per token and layer, 2 × (4096 × 6 +
    /// 14336) fewer bytes for the inputs and 2 × 16 × 7 for the intermediates, which is 77,856 B (measured on the CPU:
    /// docs/benchmarks.md). Nothing changes on a float32 base.
    /// </summary>
    [Fact]
    public void Lora_in_the_model_dtype_keeps_the_adapters_inputs_in_it()
    {
        var path = Path.Combine(TestPaths.RepoRoot, "configs", "e5-mistral-7b.yaml");
        var model = ModelFamilies.Load(Path.Combine(ConfigLoader.Load(path).Model.Path, "config.json")).Config;
        long PerToken(params string[] set)
        {
            var config = ConfigLoader.Load(path, set);
            return MemoryEstimate.ActivationBytesPerTokenPerLayer(model, config.Lora.ToSettings(), DTypes.ElementSize(DTypes.Parse(config.Model.DType, "model.dtype")), config.Model.MaxLength);
        }
        Assert.Equal(2L * (4096 * 6 + 14336) + 2L * 16 * 7, PerToken() - PerToken("lora.compute_dtype=model"));
        Assert.Equal(PerToken("model.dtype=float32"), PerToken("model.dtype=float32", "lora.compute_dtype=model"));
        var sevenB = ConfigLoader.Load(path);
        var smaller = MemoryEstimate.For(ConfigLoader.Load(path, ["lora.compute_dtype=model"]), ModelFamilies.Load(Path.Combine(sevenB.Model.Path, "config.json")));
        Assert.True(smaller.Activations < MemoryEstimate.For(sevenB, ModelFamilies.Load(Path.Combine(sevenB.Model.Path, "config.json"))).Activations);
    }

    [Fact]
    public void Scale_keys_are_validated()
    {
        var dir = TestPaths.TempDir("scale-config");
        Assert.Contains("training.micro_batch_size = 13 is invalid; it counts sequences per forward (a row's query, positive and negative count one each), so expected at most 3 × training.batch_size (12).",
            Assert.Throws<ConfigException>(() => TrainingFixture.Config(dir, "training.micro_batch_size=13")).Message);
        TrainingFixture.Config(dir, "training.micro_batch_size=12"); // the whole batch of 4 rows in one forward
        Assert.Contains("use [auto] alone", Assert.Throws<ConfigException>(() => TrainingFixture.Config(dir, "training.devices=[auto, cpu]")).Message);
        Assert.Contains("training.devices entry gpu0 is invalid", Assert.Throws<ConfigException>(() => TrainingFixture.Config(dir, "training.devices=[gpu0]")).Message);
        var ok = TrainingFixture.Config(dir, "training.devices=[cpu, cpu]", "model.gradient_checkpointing=true", "training.micro_batch_size=2");
        Assert.Equal(["cpu", "cpu"], ok.Training.ReplicaDevices());
        Assert.True(ok.Model.GradientCheckpointing);
    }

    [Fact]
    public void Bfloat16_base_keeps_adapters_optimizer_and_loss_in_float32()
    {
        var dir = TestPaths.TempDir("bf16");
        var summary = new TrainingRun(TrainingFixture.Config(dir, "model.dtype=bfloat16", "training.max_steps=2"), new TrainOptions(), TextWriter.Null).Run();
        Assert.True(double.IsFinite(summary.LastLoss!.Value));
        using var model = PretrainedLoader.Load(TestPaths.TinyMistral, ScalarType.BFloat16, lora: Trainer.Models.Lora.PeftAdapter.ReadSettings(summary.LastCheckpoint!));
        Trainer.Models.Lora.PeftAdapter.Load(summary.LastCheckpoint!, model);
        Assert.All(model.named_parameters(), p => Assert.Equal(p.parameter.requires_grad ? ScalarType.Float32 : ScalarType.BFloat16, p.parameter.dtype));
        var header = Trainer.Models.Weights.SafetensorsHeader.Read(Path.Combine(summary.LastCheckpoint!, "adapter_model.safetensors"));
        Assert.All(header.Entries.Values, e => Assert.Equal("F32", e.DType));
    }

    /// <summary>With <c>lora.compute_dtype: model</c> a bf16 run trains (finite, falling loss) and still saves float32 adapters.</summary>
    [Fact]
    public void Bfloat16_base_with_lora_in_bfloat16_trains_and_saves_float32_adapters()
    {
        var dir = TestPaths.TempDir("bf16-lora-bf16");
        var summary = new TrainingRun(TrainingFixture.Config(dir, "model.dtype=bfloat16", "lora.compute_dtype=model", "training.max_steps=2"), new TrainOptions(), TextWriter.Null).Run();
        Assert.True(double.IsFinite(summary.LastLoss!.Value));
        var header = Trainer.Models.Weights.SafetensorsHeader.Read(Path.Combine(summary.LastCheckpoint!, "adapter_model.safetensors"));
        Assert.All(header.Entries.Values, e => Assert.Equal("F32", e.DType));
        Assert.Contains("compute_dtype: model", File.ReadAllText(Path.Combine(summary.LastCheckpoint!, "config.yaml")));
    }
}
