using System.CommandLine;
using Trainer.Cli;

var root = new RootCommand("Trainer: turn a Mistral-family decoder into a text-embedding model (e5-mistral recipe).")
{
    EmbedCommands.Embed(),
    EmbedCommands.Tokenize(),
    TrainCommand.Build(),
    ExportCommand.Build(),
    EvalCommand.Build(),
    MineCommand.Build(),
    BenchmarkCommands.Build(),
    ServeCommand.Build(),
    SynthCommand.Build(),
};
return root.Parse(args).Invoke();
