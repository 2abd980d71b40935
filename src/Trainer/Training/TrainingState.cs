using System.Text.Json;
using System.Text.Json.Serialization;

namespace Trainer.Training;

/// <summary>
/// Where training stands after <see cref="Step"/> optimizer steps: the data cursor (epoch and index within that
/// epoch's order), the dropout RNG state, and what the run was configured with and trained on (config hash, sha256
/// of each training file), and with checkpoint.keep_best, which checkpoint is the best so far. Written with every
/// checkpoint, next to the adapter and the optimizer state.
/// </summary>
public sealed record TrainingState
{
    public const string FileName = "trainer_state.json";

    [JsonPropertyName("step")] public int Step { get; init; }
    [JsonPropertyName("epoch")] public int Epoch { get; init; }
    [JsonPropertyName("index_in_epoch")] public int IndexInEpoch { get; init; }
    [JsonPropertyName("total_steps")] public int TotalSteps { get; init; }
    [JsonPropertyName("learning_rate")] public double LearningRate { get; init; }
    [JsonPropertyName("seed")] public int Seed { get; init; }
    /// <summary>Each replica's dropout generator state (base64 of 16 bytes: seed and counter, see <see cref="Models.Lora.DropoutGenerator"/>), replica 0 first.</summary>
    [JsonPropertyName("dropout_rng_states")] public IReadOnlyList<string> DropoutRngStates { get; init; } = [];
    /// <summary>The processes that trained it (training.distributed); <see cref="DropoutRngStates"/> holds rank 0's replicas, then rank 1's, and so on.</summary>
    [JsonPropertyName("world_size")] public int WorldSize { get; init; } = 1;

    [JsonPropertyName("config_sha256")] public string ConfigSha256 { get; init; } = "";
    /// <summary>sha256 (lowercase hex) of each data.train file, by path; resume refuses files whose content changed.</summary>
    [JsonPropertyName("data_sha256")] public IReadOnlyDictionary<string, string> DataSha256 { get; init; } = new Dictionary<string, string>();
    [JsonPropertyName("elapsed_s")] public double ElapsedSeconds { get; init; }

    /// <summary>With checkpoint.keep_best: the folder name (in output_dir) of the best checkpoint so far, this one included; else null.</summary>
    [JsonPropertyName("best_checkpoint")] public string? BestCheckpoint { get; init; }

    /// <summary>With checkpoint.keep_best: that checkpoint's value of the keep_best measure; else null.</summary>
    [JsonPropertyName("best_metric")] public double? BestMetric { get; init; }

    public void Save(string dir) =>
        File.WriteAllText(Path.Combine(dir, FileName), JsonSerializer.Serialize(this, new JsonSerializerOptions { WriteIndented = true }));

    public static TrainingState Load(string dir)
    {
        var path = Path.Combine(dir, FileName);
        try
        {
            return JsonSerializer.Deserialize<TrainingState>(File.ReadAllText(path)) ?? throw new InvalidDataException($"{path}: empty.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: unreadable training state ({e.Message})", e);
        }
    }
}
