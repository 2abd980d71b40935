using System.CommandLine;
using Trainer.Checkpointing;
using Trainer.Evaluation.Passkey;

namespace Trainer.Cli;

/// <summary>
/// The options of <c>trainer eval --passkey --model M --lengths 256,512,… [--candidates 100] [--rope-theta θ] [--seed 42]</c>
/// (the paper's personalised passkey retrieval; <see cref="PasskeyJob"/>), added to the eval command beside its BEIR
/// options. The eval options that pick the data or shape a retrieval run do not apply and are refused by name.
/// </summary>
/// <param name="seed">The eval command's <c>--seed</c>, shared with <c>--task</c>: here the seed of the names, passkeys and positions.</param>
public sealed class PasskeyArguments(Option<int> seed)
{
    public Option<bool> Passkey { get; } = new("--passkey") { Description = "Personalised passkey retrieval at long lengths (the paper's §5.2) instead of a BEIR dataset" };

    public Option<string?> Lengths { get; } = new("--lengths") { Description = "--passkey: document lengths in tokens, comma-separated (e.g. 256,512,1024,2048,4096)" };

    public Option<int> Candidates { get; } = new("--candidates") { DefaultValueFactory = _ => 100, Description = "--passkey: documents per length (one query each)" };

    public Option<double?> RopeTheta { get; } = new("--rope-theta") { Description = "--passkey: also evaluate with config.json's rope_theta replaced by this (the paper: 100000)" };

    public Option<int> Seed => seed;

    private IEnumerable<Option> Own => [Lengths, Candidates, RopeTheta];

    public void AddTo(Command command)
    {
        command.Options.Add(Passkey);
        foreach (var option in Own) command.Options.Add(option);
    }

    /// <summary>Refuses the passkey options on an eval without <c>--passkey</c>.</summary>
    public void RefuseWithout(ParseResult r)
    {
        if (Own.FirstOrDefault(o => r.GetResult(o) is { Implicit: false }) is { } given)
            throw new ArgumentException($"{given.Name} applies to --passkey only; add --passkey or leave {given.Name} out.");
    }

    /// <param name="inapplicable">The eval options that have no meaning for the passkey test (--data, --split, --top-k, …).</param>
    public int Run(ParseResult r, ModelOptions shared, Option<string?> instruction, Option<string?> output, IEnumerable<Option> inapplicable)
    {
        if (inapplicable.Concat([shared.MaxLength]).FirstOrDefault(o => r.GetResult(o) is { Implicit: false }) is { } ignored)
            throw new ArgumentException($"{ignored.Name} does not apply to --passkey, which builds its own documents at each of --lengths; leave {ignored.Name} out.");
        if (r.GetValue(shared.Model) is null && r.GetValue(shared.Adapter) is null) throw new ArgumentException("--model is required.");
        var lengths = r.GetValue(Lengths) ?? throw new ArgumentException("--passkey needs --lengths, e.g. --lengths 256,512,1024,2048,4096.");
        var options = new PasskeyOptions(r.GetValue(shared.Model), PasskeyOptions.ParseLengths(lengths))
        {
            Adapter = r.GetValue(shared.Adapter),
            BaseModel = r.GetValue(shared.BaseModel),
            Candidates = r.GetValue(Candidates),
            RopeTheta = r.GetValue(RopeTheta),
            Seed = r.GetValue(Seed),
            Instruction = r.GetValue(instruction),
            BatchSize = r.GetValue(shared.BatchSize),
            Device = r.GetValue(shared.Device)!,
            DType = r.GetValue(shared.DType)!,
            OutputPath = r.GetValue(output),
        };
        PasskeyJob.Run(options, Console.Error, options.OutputPath == OutputTarget.StandardOutput ? Console.Error : Console.Out);
        return 0;
    }
}
