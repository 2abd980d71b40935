using System.Diagnostics;
using System.Globalization;
using Trainer.Inference;
using Trainer.Models;

namespace Trainer.Evaluation.Passkey;

/// <summary>
/// <c>trainer eval --passkey</c>: resolve the model (<see cref="ModelSource"/>), build every length's candidates with
/// <see cref="PasskeyGenerator"/> (a length too short for the passkey sentence stops here, before any model is loaded),
/// then for the model's own RoPE base and, with <see cref="PasskeyOptions.RopeTheta"/>, for that one: load the model,
/// embed each length's documents and queries, and score top-1 (<see cref="PasskeyScoring"/>). Prints the table, then
/// writes the JSON when asked. Lengths past the config's max_position_embeddings run as any other: RoPE's tables are
/// computed for the length of each batch.
/// </summary>
public static class PasskeyJob
{
    /// <param name="table">Where the table is printed before the JSON is written; null: not printed.</param>
    public static PasskeyReport Run(PasskeyOptions options, TextWriter log, TextWriter? table = null)
    {
        options.Validate();
        var source = ModelSource.Resolve(options.Model, options.Adapter, options.BaseModel, log);
        var config = ModelFamilies.Load(Path.Combine(source.ModelDir, PretrainedLoader.ConfigFile)).Config;
        var tokenizer = source.LoadTokenizer(config);
        string? instruction = string.IsNullOrEmpty(options.Instruction ?? PasskeyText.Instruction) ? null : options.Instruction ?? PasskeyText.Instruction;

        var generator = new PasskeyGenerator(tokenizer, options.Seed);
        var sets = options.Lengths.Order().Select(l => generator.Build(l, options.Candidates)).ToList();
        int queryLength = Math.Max(sets[^1].Length, ModelSource.DefaultMaxLength); // a cap the queries never reach
        var queries = sets.Select(s => s.Candidates.Select(c => tokenizer.Encode(c.Query, instruction, queryLength)).ToList()).ToList();

        log.WriteLine($"eval --passkey: model {source.ModelDir}{(source.AdapterDir is { } a ? $" + adapter {a}" : "")}; {options.Candidates} candidates per length, seed {options.Seed}, " +
                      $"instruction {(instruction is null ? "none" : $"\"{instruction}\"")}");
        foreach (var set in sets)
            log.WriteLine($"eval --passkey: length {set.Length}: passkey sentence at token {set.KeyStart} ({set.Depth:P0}), {set.KeyLength} tokens" +
                          (set.Length > config.MaxPositionEmbeddings ? $"; past max_position_embeddings {config.MaxPositionEmbeddings}" : ""));

        var runs = new List<PasskeyRun>();
        foreach (var theta in options.RopeTheta is { } given ? new double?[] { null, given } : [null])
        {
            using var model = AdaptedModel.Load(source.ModelDir, source.AdapterDir, DTypes.Parse(options.DType, "--dtype"), DTypes.ParseDevice(options.Device, "--device"), theta);
            double ropeTheta = model.Family.Config.RopeTheta;
            var embedder = new TextEmbedder(model, options.BatchSize);
            var lengths = new List<PasskeyLengthResult>();
            for (int i = 0; i < sets.Count; i++)
            {
                var clock = Stopwatch.StartNew();
                var documentVectors = embedder.Embed(sets[i].Candidates.Select(c => c.DocumentIds).ToList());
                var queryVectors = embedder.Embed(queries[i]);
                double seconds = clock.Elapsed.TotalSeconds;
                var winners = PasskeyScoring.Winners(queryVectors, documentVectors);
                int hits = winners.Where((w, q) => w == q).Count();
                var result = new PasskeyLengthResult(sets[i].Length, sets[i].KeyStart, options.Candidates, hits, winners.Where(w => w >= 0).Distinct().Count(), seconds);
                lengths.Add(result);
                long tokens = (long)sets[i].Length * options.Candidates + queries[i].Sum(q => q.Length);
                log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"eval --passkey: rope_theta {ropeTheta:R}, length {result.Length}: top-1 {result.Accuracy:F4} ({hits}/{options.Candidates}; distinct winners {result.DistinctWinners}) in {seconds:F1} s ({tokens / seconds:F0} tokens/s)"));
            }
            runs.Add(new PasskeyRun(ropeTheta, theta is not null, lengths));
        }

        var report = new PasskeyReport(source.ModelDir, source.AdapterDir, options.Seed, options.Candidates, instruction, config.MaxPositionEmbeddings, runs);
        table?.Write(report.FormatTable());
        table?.Flush();
        if (options.OutputPath is { } output)
        {
            report.WriteJson(output);
            log.WriteLine($"eval --passkey: wrote {output}");
        }
        return report;
    }
}
