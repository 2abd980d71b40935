using System.Text.Json;
using Trainer.Checkpointing;
using Trainer.Config;
using Trainer.Export;
using Trainer.Text;
using Trainer.Training;

namespace Trainer.Inference;

/// <summary>
/// What <c>--model M [--adapter A] [--base-model B]</c> names (<c>trainer embed</c>, <c>tokenize</c>, <c>eval</c>,
/// <c>mine</c>), resolved: the model folder to load, the adapter to apply, and the max_length and query instruction
/// the model was trained or exported with, which a command uses where it is given none.
/// <list type="bullet">
/// <item>M holds <c>config.json</c>: a Hugging Face model folder. With <c>embedding_config.json</c> beside it (a
/// <c>trainer export</c>), its <c>max_length</c> and <c>default_instruction</c> are the defaults.</item>
/// <item>Otherwise M is a <c>checkpoint-&lt;step&gt;</c> or an output_dir (its newest valid checkpoint, as
/// <see cref="CheckpointStore.Resolve"/> takes it): the checkpoint is the adapter, its base model is found by
/// <see cref="CheckpointBaseModel"/> (B, else <c>model.path</c> as written, else at the same place relative to the
/// checkpoint), and its <c>model.max_length</c> and <c>data.default_instruction</c> are the defaults. A is then refused.</item>
/// <item>A with M: an adapter folder, a checkpoint or an output_dir on top of M; a checkpoint's <c>config.yaml</c> gives
/// the defaults as above, so <c>M + A</c> embeds exactly what the checkpoint alone does.</item>
/// <item>A without M: a checkpoint, which stands for itself as M would; or a plain PEFT adapter on B.</item>
/// </list>
/// </summary>
/// <param name="DefaultsFrom">The file the defaults came from, or null (then <see cref="DefaultMaxLength"/> and no instruction).</param>
public sealed record ModelSource(string ModelDir, string? AdapterDir, int? MaxLength, string? Instruction, string? DefaultsFrom)
{
    public const int DefaultMaxLength = 512;

    /// <summary>How queries are written: the checkpoint's <c>data.query_template</c> or the export's <c>query_template</c>, else e5's.</summary>
    public QueryTemplate Template { get; init; } = QueryTemplate.E5;

    /// <summary>The token appended and pooled: the checkpoint's <c>model.pool_token</c> or the export's <c>pool_token</c>; null: the tokenizer's rule.</summary>
    public string? PoolToken { get; init; }

    /// <summary>The Matryoshka dims the model was trained with: the checkpoint's <c>loss.matryoshka_dims</c> or the export's <c>matryoshka_dims</c>; null: none.</summary>
    public IReadOnlyList<int>? MatryoshkaDims { get; init; }

    /// <summary>The vector lengths the model serves (<see cref="EmbeddingDimensions"/>), its hidden size read from <c>config.json</c>.</summary>
    public EmbeddingDimensions Dimensions(Models.IDecoderConfig? config = null) =>
        new((config ?? Models.ModelFamilies.Load(Path.Combine(ModelDir, Models.PretrainedLoader.ConfigFile)).Config).HiddenSize, MatryoshkaDims);

    /// <summary>
    /// The model folder's tokenizer, checked against its config (<paramref name="config"/> when the caller has read it
    /// already), writing queries with <see cref="Template"/>.
    /// </summary>
    public EmbeddingTokenizer LoadTokenizer(Models.IDecoderConfig? config = null) =>
        EmbeddingTokenizer.Load(ModelDir, config ?? Models.ModelFamilies.Load(Path.Combine(ModelDir, Models.PretrainedLoader.ConfigFile)).Config, PoolToken).WithTemplate(Template);

    public static ModelSource Resolve(string? model, string? adapter, string? baseModel, TextWriter log)
    {
        if (model is null)
        {
            if (adapter is null) throw new ArgumentException("--model is required: a model folder, a trainer export, a checkpoint-<step> folder or an output_dir.");
            var adapterDir = CheckpointStore.Resolve(adapter, log, allowPlainAdapter: true);
            if (IsCheckpoint(adapterDir)) return FromCheckpoint(adapterDir, baseModel, log);
            return baseModel is not null
                ? Resolve(baseModel, adapterDir, null, log)
                : throw new ArgumentException($"--adapter {adapter} is a PEFT adapter folder without the trainer's {CheckpointStore.ConfigFile}, " +
                                              "so it does not name its base model; give the base model folder with --model.");
        }
        if (!Directory.Exists(model)) throw new DirectoryNotFoundException($"--model folder not found: {model}");
        if (CheckpointBaseModel.IsModelFolder(model))
        {
            if (baseModel is not null)
                throw new ArgumentException($"--base-model names the base model of a checkpoint; --model {model} is a model folder, which is the base itself. Give one of them.");
            var defaults = File.Exists(Path.Combine(model, ExportJob.EmbeddingConfigFile)) ? FromEmbeddingConfig(model) : FromModelFolder(model);
            if (adapter is null) return defaults;
            var adapterDir = CheckpointStore.Resolve(adapter, log, allowPlainAdapter: true);
            var settings = IsCheckpoint(adapterDir) ? Trained(adapterDir, ConfigLoader.Load(Path.Combine(adapterDir, CheckpointStore.ConfigFile))) : defaults;
            return settings with { ModelDir = model, AdapterDir = adapterDir };
        }
        if (!File.Exists(Path.Combine(model, TrainingState.FileName)) && !new CheckpointStore(model).Checkpoints().Any())
            throw new InvalidDataException($"--model {model} is neither a model folder ({Models.PretrainedLoader.ConfigFile}) nor a checkpoint-<step> folder " +
                                           "nor an output_dir holding checkpoints (a PEFT adapter folder goes in --adapter).");
        if (adapter is not null)
            throw new ArgumentException($"--adapter cannot be combined with a checkpoint given as --model ({model}): the checkpoint's own adapter is applied " +
                                        "to its base model. Give the base model folder as --model to apply another adapter.");
        return FromCheckpoint(CheckpointStore.Resolve(model, log), baseModel, log);
    }

    /// <summary>
    /// The max_length and query instruction to use: given values win (<c>""</c> means no instruction), then the model's,
    /// then <see cref="DefaultMaxLength"/> and none; with a line for the log naming each value and where it came from.
    /// </summary>
    public (int MaxLength, string? Instruction, string Report) Settings(int? maxLength, string? instruction)
    {
        int length = maxLength ?? MaxLength ?? DefaultMaxLength;
        string? text = instruction ?? Instruction;
        if (string.IsNullOrEmpty(text)) text = null;
        string From(bool given) => given ? "given" : DefaultsFrom is { } file ? $"from {file}" : "default";
        return (length, text, $"max_length {length} ({From(maxLength is not null)}), query instruction {(text is null ? "none" : $"\"{text}\"")} ({From(instruction is not null)})");
    }

    /// <summary>A checkpoint with its base model found, and its training settings as the defaults.</summary>
    private static ModelSource FromCheckpoint(string checkpoint, string? baseModel, TextWriter log) =>
        Trained(checkpoint, CheckpointBaseModel.Load(checkpoint, baseModel, log));

    private static ModelSource Trained(string checkpoint, TrainConfig config) =>
        new(config.Model.Path, checkpoint, config.Model.MaxLength, config.Data.DefaultInstruction, Path.Combine(checkpoint, CheckpointStore.ConfigFile))
        {
            Template = new QueryTemplate(config.Data.QueryTemplate),
            PoolToken = config.Model.PoolToken,
            MatryoshkaDims = config.Loss.MatryoshkaDims,
        };

    /// <summary>A plain model folder: no defaults, except a sentence-transformers model's own query prompt (<see cref="SentenceTransformersPrompt"/>).</summary>
    private static ModelSource FromModelFolder(string model) =>
        SentenceTransformersPrompt.Read(model) is var (template, instruction)
            ? new ModelSource(model, null, null, instruction, Path.Combine(model, SentenceTransformersPrompt.ConfigFile)) { Template = template }
            : new ModelSource(model, null, null, null, null);

    private static bool IsCheckpoint(string adapterDir) => File.Exists(Path.Combine(adapterDir, CheckpointStore.ConfigFile));

    /// <summary>The defaults <c>trainer export</c> wrote: max_length, default_instruction and query_template.</summary>
    private static ModelSource FromEmbeddingConfig(string model)
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
            var queryTemplate = QueryTemplate.E5;
            if (root.TryGetProperty("query_template", out var template) && template.ValueKind != JsonValueKind.Null)
            {
                try
                {
                    queryTemplate = QueryTemplate.FromServingSpelling(template.ValueKind == JsonValueKind.String ? template.GetString()! : template.GetRawText());
                }
                catch (ArgumentException e)
                {
                    throw new InvalidDataException($"{path}: query_template is invalid: {e.Message.Replace(QueryTemplate.QuerySlot, QueryTemplate.ServingQuerySlot)}");
                }
            }
            string? poolToken = null;
            if (root.TryGetProperty("pool_token", out var pool) && pool.ValueKind != JsonValueKind.Null)
            {
                if (pool.ValueKind != JsonValueKind.String || pool.GetString() is not { Length: > 0 } token)
                    throw new InvalidDataException($"{path}: pool_token must be a non-empty string or null, got {pool.GetRawText()}.");
                poolToken = token;
            }
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
            IReadOnlyList<int>? dims = null;
            if (root.TryGetProperty("matryoshka_dims", out var matryoshka) && matryoshka.ValueKind != JsonValueKind.Null)
            {
                if (matryoshka.ValueKind != JsonValueKind.Array || matryoshka.GetArrayLength() == 0
                    || matryoshka.EnumerateArray().Any(d => d.ValueKind != JsonValueKind.Number || !d.TryGetInt32(out int v) || v < 1))
                    throw new InvalidDataException($"{path}: matryoshka_dims {matryoshka} is invalid; expected a list of positive integers or null.");
                dims = matryoshka.EnumerateArray().Select(d => d.GetInt32()).ToList();
            }
            return new ModelSource(model, null, maxLength, instruction, path) { Template = queryTemplate, PoolToken = poolToken, MatryoshkaDims = dims };
        }
    }
}
