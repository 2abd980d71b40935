using TorchSharp;
using Trainer.Models;
using Trainer.Models.Lora;
using Trainer.Models.Weights;
using static TorchSharp.torch;

namespace Trainer.Export;

/// <summary>
/// The base checkpoint with a LoRA adapter folded in, one tensor at a time: W' = W + (B·A)·alpha/r, computed in
/// float32 and cast to the requested dtype. Only the adapter (small) is held in memory; base tensors stream from
/// their safetensors files as they are asked for.
/// </summary>
public sealed class MergedWeights : IDisposable
{
    private readonly WeightFiles _files;
    private readonly Dictionary<string, SafetensorsReader> _readers = new();
    private readonly Dictionary<string, (Tensor A, Tensor B)> _adapters = new(); // base key (stored spelling) → A [r, in], B [out, r]
    private readonly double _scaling;

    public MergedWeights(string modelDir, string? adapterDir)
    {
        ModelDir = modelDir;
        Family = ModelFamilies.Load(Path.Combine(modelDir, PretrainedLoader.ConfigFile));
        _files = WeightFiles.Find(modelDir);
        Keys = KeyLayout.Of(_files.TensorToFile.Keys);
        if (adapterDir is null) return;
        var settings = PeftAdapter.ReadSettings(adapterDir);
        _scaling = settings.Scaling;
        using var reader = new SafetensorsReader(Path.Combine(adapterDir, PeftAdapter.WeightsFile));
        foreach (var key in reader.Header.Entries.Keys.Where(PeftAdapter.IsLoraAKey))
        {
            var (baseKey, bKey) = PeftAdapter.Targets(key, Keys);
            if (!_files.TensorToFile.ContainsKey(baseKey))
                throw new InvalidDataException($"Adapter tensor '{key}' targets '{baseKey}', which the base model in {modelDir} does not have.");
            if (!reader.Header.Entries.ContainsKey(bKey)) throw new InvalidDataException($"Adapter {adapterDir}: '{key}' has no matching '{bKey}'.");
            _adapters[baseKey] = (reader.Read(key, ScalarType.Float32).DetachFromDisposeScope(), reader.Read(bKey, ScalarType.Float32).DetachFromDisposeScope());
        }
        MergedCount = _adapters.Count;
    }

    public string ModelDir { get; }

    /// <summary>The base model's family, read from its config.json.</summary>
    public ModelFamily Family { get; }

    /// <summary>How the base weight files spell their keys.</summary>
    public KeyLayout Keys { get; }

    public int MergedCount { get; }

    /// <summary>Stored tensor names (base spelling), without the ones <see cref="PretrainedLoader.IsIgnored"/> skips, in a stable order.</summary>
    public IReadOnlyList<string> StoredNames => _files.TensorToFile.Keys.Where(k => !PretrainedLoader.IsIgnored(k)).Order(StringComparer.Ordinal).ToList();

    public long[] Shape(string storedName) => Reader(storedName).Header.Entries[storedName].Shape;

    /// <summary>The merged tensor by model parameter name (no prefix), e.g. <c>layers.0.self_attn.q_proj.weight</c>.</summary>
    public Tensor Parameter(string parameterName, ScalarType dtype) => Stored(Keys.Stored(parameterName), dtype);

    /// <summary>The merged tensor by stored name, as a new tensor of <paramref name="dtype"/>.</summary>
    public Tensor Stored(string storedName, ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        var weight = Reader(storedName).Read(storedName, ScalarType.Float32);
        if (_adapters.TryGetValue(storedName, out var lora))
        {
            using var scaling = _scaling.ToScalar();
            weight.add_(lora.B.matmul(lora.A), alpha: scaling); // W + (B·A)·alpha/r, in float32
        }
        return weight.to(dtype).MoveToOuterDisposeScope();
    }

    private SafetensorsReader Reader(string storedName)
    {
        if (!_files.TensorToFile.TryGetValue(storedName, out var file)) throw new InvalidDataException($"{ModelDir}: missing tensor '{storedName}'.");
        if (!_readers.TryGetValue(file, out var reader)) _readers[file] = reader = new SafetensorsReader(file);
        return reader;
    }

    public void Dispose()
    {
        foreach (var r in _readers.Values) r.Dispose();
        foreach (var (a, b) in _adapters.Values) { a.Dispose(); b.Dispose(); }
    }
}
