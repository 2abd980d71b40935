using Trainer.Evaluation;
using Trainer.Export;
using Trainer.Tests.Export;

namespace Trainer.Tests.Evaluation;

/// <summary>
/// The three ways to name a trained model give the same evaluation: an exported safetensors folder, the base model plus
/// the checkpoint as adapter, and the checkpoint alone; max_length and the instruction come from the training config
/// (or the export's embedding_config.json) unless given.
/// </summary>
public class EvalModelTests(TrainedCheckpoint trained) : IClassFixture<TrainedCheckpoint>
{
    private static RetrievalEvaluation Eval(EvalOptions options, out string log)
    {
        var writer = new StringWriter();
        var evaluation = EvalJob.Run(options, writer);
        log = writer.ToString();
        return evaluation;
    }

    [Fact]
    public void Export_base_plus_adapter_and_checkpoint_give_the_same_measures_with_the_trained_defaults()
    {
        var data = TinyBeir.Write();
        var export = ExportJob.Run(new ExportOptions(trained.Path, ["safetensors"], TestPaths.TempDir("eval-export")), TextWriter.Null).OutputDir;

        var exported = Eval(new EvalOptions(export, data), out var exportLog);
        var adapted = Eval(new EvalOptions(TestPaths.TinyMistral, data) { Adapter = trained.Path }, out var adapterLog);
        var checkpoint = Eval(new EvalOptions(trained.Path, data), out var checkpointLog);
        var outputDir = Eval(new EvalOptions(Path.GetDirectoryName(trained.Path)!, data), out _);

        // the fixture trains with max_length 24 and default_instruction "Find the abstract"
        Assert.Contains($"max_length 24 (from {Path.Combine(export, ExportJob.EmbeddingConfigFile)}), instruction \"Find the abstract\"", exportLog);
        Assert.Contains("max_length 24 (from ", adapterLog);
        Assert.Contains("instruction \"Find the abstract\" (from ", checkpointLog);
        foreach (var other in new[] { adapted, checkpoint, outputDir })
        {
            foreach (var metric in RetrievalMetrics.Reported) Assert.Equal(exported.Report.Mean[metric.Name], other.Report.Mean[metric.Name], 1e-4);
            for (int q = 0; q < exported.Results.Count; q++)
            {
                Assert.Equal(exported.Results[q].Count, other.Results[q].Count);
                for (int i = 0; i < exported.Results[q].Count; i++) Assert.Equal(exported.Results[q][i].Score, other.Results[q][i].Score, 1e-4);
            }
        }
        Assert.Equal(checkpoint.Results, outputDir.Results); // the output_dir stands for its newest checkpoint

        // the adapter matters: the base model alone scores differently
        var plain = Eval(new EvalOptions(TestPaths.TinyMistral, data) { MaxLength = 24, Instruction = "Find the abstract" }, out _);
        Assert.Contains(plain.Results.Zip(exported.Results), p => Math.Abs(p.First[0].Score - p.Second[0].Score) > 1e-3);
    }

    [Fact]
    public void Given_options_win_over_the_trained_defaults_and_adapter_with_a_checkpoint_model_is_refused()
    {
        var data = TinyBeir.Write();
        var defaults = Eval(new EvalOptions(trained.Path, data), out _);
        var given = Eval(new EvalOptions(trained.Path, data) { MaxLength = 8, Instruction = "" }, out var log);
        Assert.Contains("max_length 8 (given), instruction none (given)", log);
        Assert.NotEqual(defaults.Results[0][0].Score, given.Results[0][0].Score);

        var error = Assert.Throws<ArgumentException>(() => EvalJob.Run(new EvalOptions(trained.Path, data) { Adapter = trained.Path }, TextWriter.Null));
        Assert.StartsWith($"--adapter cannot be combined with a checkpoint given as --model ({trained.Path})", error.Message);
    }
}
