using System.Text.Json;
using Trainer.Checkpointing;
using Trainer.Config;
using Trainer.Export;
using Trainer.Models;
using Trainer.Models.Lora;
using Trainer.Text;
using Trainer.Training;

namespace Trainer.Evaluation;

/// <summary>
/// What <c>trainer eval --model M [--adapter A]</c> names, resolved: the model folder to load, the adapter to apply,
/// and the max_length and instruction the model was trained or exported with, to use where the command gives none.
/// <list type="bullet">
/// <item>M holds <c>config.json</c>: a Hugging Face model folder. With <c>embedding_config.json</c> beside it (a
/// <c>trainer export</c>), its <c>max_length</c> and <c>default_instruction</c> are the defaults.</item>
/// <item>Otherwise M is a <c>checkpoint-&lt;step&gt;</c> or an output_dir (its newest valid checkpoint, as
/// <see cref="CheckpointStore.Resolve"/> takes it): the base model is the checkpoint's <c>config.yaml</c>
/// <c>model.path</c>, the checkpoint is the adapter, and <c>model.max_length</c> and <c>data.default_instruction</c> are
/// the defaults. <c>--adapter</c> is then refused.</item>
/// <item>A: a PEFT adapter folder, a checkpoint or an output_dir; a checkpoint's <c>config.yaml</c> gives the defaults
/// as above, so <c>--model BASE --adapter CHECKPOINT</c> evaluates exactly what <c>--model CHECKPOINT</c> does.</item>
/// </list>
/// </summary>
/// <param name="DefaultsFrom">The file the defaults came from, or null (then max_length 512 and no instruction).</param>
public sealed record EvalModel(string ModelDir, string? AdapterDir, int? MaxLength, string? Instruction, string? DefaultsFrom)
{
    public static EvalModel Resolve(string model, string? adapter, TextWriter log)
    {
        if (!Directory.Exists(model)) throw new DirectoryNotFoundException($"--model folder not found: {model}");
        if (File.Exists(Path.Combine(model, PretrainedLoader.ConfigFile)))
        {
            var defaults = File.Exists(Path.Combine(model, ExportJob.EmbeddingConfigFile)) ? FromEmbeddingConfig(model) : null;
            if (adapter is null) return defaults ?? new EvalModel(model, null, null, null, null);
            var adapterDir = CheckpointStore.Resolve(adapter, log, allowPlainAdapter: true);
            var fromCheckpoint = FromCheckpoint(adapterDir);
            return (fromCheckpoint ?? defaults ?? new EvalModel(model, null, null, null, null)) with { ModelDir = model, AdapterDir = adapterDir };
        }
        if (!File.Exists(Path.Combine(model, TrainingState.FileName)) && !new CheckpointStore(model).Checkpoints().Any())
            throw new InvalidDataException($"--model {model} is neither a model folder ({PretrainedLoader.ConfigFile}) nor a checkpoint-<step> folder " +
                                           "nor an output_dir holding checkpoints (a PEFT adapter folder goes in --adapter).");
        if (adapter is not null)
            throw new ArgumentException($"--adapter cannot be combined with a checkpoint given as --model ({model}): the checkpoint's own adapter is applied " +
                                        "to its base model. Give the base model folder as --model to apply another adapter.");
        var checkpoint = CheckpointStore.Resolve(model, log);
        return FromCheckpoint(checkpoint)!;
    }

    /// <summary>The base model, adapter and defaults of a checkpoint (its config.yaml); null for a plain adapter folder.</summary>
    private static EvalModel? FromCheckpoint(string checkpoint)
    {
        var path = Path.Combine(checkpoint, CheckpointStore.ConfigFile);
        if (!File.Exists(path)) return null;
        var config = ConfigLoader.Load(path);
        return new EvalModel(config.Model.Path, checkpoint, config.Model.MaxLength, config.Data.DefaultInstruction, path);
    }

    /// <summary>The defaults <c>trainer export</c> wrote; a query template other than ours is refused.</summary>
    private static EvalModel FromEmbeddingConfig(string model)
    {
        var path = Path.Combine(model, ExportJob.EmbeddingConfigFile);
        JsonDocument json;
        try
        {
            json = JsonDocument.Parse(File.ReadAllText(path));
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: invalid JSON ({e.Message})");
        }
        using (json)
        {
            var root = json.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{path}: expected a JSON object.");
            if (root.TryGetProperty("query_template", out var template) && template.ValueKind != JsonValueKind.Null &&
                template.GetString() != PromptFormat.QueryTemplate)
                throw new NotSupportedException($"{path}: query_template {template} is not supported; trainer eval formats queries as {JsonSerializer.Serialize(PromptFormat.QueryTemplate)}.");
            int? maxLength = null;
            if (root.TryGetProperty("max_length", out var length))
            {
                if (length.ValueKind != JsonValueKind.Number || !length.TryGetInt32(out int value) || value < 2)
                    throw new InvalidDataException($"{path}: max_length {length} is invalid; expected an integer of at least 2.");
                maxLength = value;
            }
            string? instruction = null;
            if (root.TryGetProperty("default_instruction", out var text) && text.ValueKind != JsonValueKind.Null)
            {
                if (text.ValueKind != JsonValueKind.String)
                    throw new InvalidDataException($"{path}: default_instruction must be a string or null, got {text.ValueKind.ToString().ToLowerInvariant()}.");
                instruction = text.GetString();
            }
            return new EvalModel(model, null, maxLength, instruction, path);
        }
    }
}
