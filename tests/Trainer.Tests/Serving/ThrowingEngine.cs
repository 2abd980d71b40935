using System.Runtime.InteropServices;
using Trainer.Serving;

namespace Trainer.Tests.Serving;

/// <summary>
/// A real engine that fails every call while <see cref="Fail"/> is set, with the exception type TorchSharp raises for a
/// native error (an out-of-memory, say), whose message names a file on the server (<see cref="Path"/>).
/// </summary>
public sealed class ThrowingEngine(IEmbeddingEngine inner) : IEmbeddingEngine
{
    public const string Path = "/srv/private/models/weights.safetensors";

    public volatile bool Fail;

    public string Description => inner.Description;

    public int Dimensions => inner.Dimensions;

    public float[][] Embed(IReadOnlyList<int[]> rows) => Fail ? throw new ExternalException($"the model failed reading {Path}") : inner.Embed(rows);

    public void Dispose() => inner.Dispose();
}
