using System.CommandLine;
using Trainer.Config;
using Trainer.Models;
using Trainer.Training;

namespace Trainer.Cli;

/// <summary><c>trainer train --config FILE [--set key.path=value ...] [--resume [PATH]] [--overwrite]</c>.</summary>
public static class TrainCommand
{
    public static Command Build()
    {
        var config = new Option<string>("--config") { Required = true, Description = "YAML config (see configs/quickstart.yaml)" };
        var set = new Option<string[]>("--set") { Description = "Override a config key, e.g. --set training.max_steps=10 (repeatable)", AllowMultipleArgumentsPerToken = false };
        var resume = new Option<string?>("--resume")
        {
            Description = "Continue from the newest valid checkpoint in output_dir, or from the checkpoint folder given",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var overwrite = new Option<bool>("--overwrite") { Description = "Start over in a non-empty output_dir (deletes its contents)" };
        var dryRun = new Option<bool>("--dry-run") { Description = "Print the estimated memory per device and exit (reads config.json only)" };
        var command = new Command("train", "Train LoRA adapters contrastively (InfoNCE) from a YAML config.") { config, set, resume, overwrite, dryRun };
        command.SetAction(result => CliErrors.Run(() =>
        {
            var loaded = ConfigLoader.Load(result.GetValue(config)!, result.GetValue(set) ?? []);
            if (result.GetValue(dryRun))
            {
                var model = ModelFamilies.Load(Path.Combine(loaded.Model.Path, PretrainedLoader.ConfigFile));
                ConfigSchema.ValidateMatryoshkaDims(loaded.Loss, model.Config.HiddenSize); // as the run would, from config.json alone
                Console.WriteLine(MemoryEstimate.For(loaded, model).Table());
                return 0;
            }
            bool resumeGiven = result.GetResult(resume) is not null;
            var options = new TrainOptions
            {
                Resume = resumeGiven,
                ResumeFrom = resumeGiven ? result.GetValue(resume) : null,
                Overwrite = result.GetValue(overwrite),
            };
            new TrainingRun(loaded, options, Console.Out).Run();
            return 0;
        }));
        return command;
    }
}
