#:project ../src/Trainer/Trainer.csproj
#:property PublishAot=false
// Does a garbage collection on another thread corrupt TorchSharp Scalars mid-call? (docs/torchsharp-scalars.md)
//   dotnet run -c Release scripts/scalar-stress.cs -- MODE SECONDS [WORKERS]
// MODE  implicit: a raw TorchSharp snippet written the usual way, every number an implicit Scalar
//                 (x.pow(2), x * 0.5, x + 1e-6, a + b, masked_fill(m, -1e9), arange(n), x / 3);
//       held:     the same snippet with every Scalar held in a `using var` local (the idiom Trainer.Core uses);
//       model:    models/stories260k with a LoRA adapter (dropout 0.1): three embedding passes, InfoNCE, backward.
// WORKERS threads (default 1) repeat the work and compare every result bitwise with a reference computed before the
// stress starts; one more thread allocates and runs GC.Collect + WaitForPendingFinalizers without pause. Prints the
// iterations, collections, mismatches and exceptions, and a hash of the reference (the same before and after a change
// that must keep the numbers); exits 1 when any result differed or threw.
using System.Diagnostics;
using System.Globalization;
using TorchSharp;
using Trainer.Losses;
using Trainer.Models;
using Trainer.Models.Lora;
using static TorchSharp.torch;

string mode = args.Length > 0 ? args[0] : "implicit";
double seconds = args.Length > 1 ? double.Parse(args[1], CultureInfo.InvariantCulture) : 10;
int workers = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 1;

Func<Func<byte[]>> makeWorker = mode switch
{
    "implicit" => () => Snippet(held: false),
    "held" => () => Snippet(held: true),
    "model" => Model,
    _ => throw new ArgumentException($"MODE is implicit, held or model, not '{mode}'"),
};

var work = Enumerable.Range(0, workers).Select(_ => makeWorker()).ToList();
var references = work.Select(w => w()).ToList();
long iterations = 0, mismatches = 0, errors = 0, collections = 0;
var firstErrors = new List<string>();
var stop = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));

var collector = new Thread(() =>
{
    while (!stop.IsCancellationRequested)
    {
        var garbage = new List<byte[]>();
        for (int i = 0; i < 256; i++) garbage.Add(new byte[4096]);
        GC.KeepAlive(garbage);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        Interlocked.Increment(ref collections);
    }
}) { IsBackground = true };
var threads = work.Select((w, r) => new Thread(() =>
{
    while (!stop.IsCancellationRequested)
    {
        try
        {
            if (!w().AsSpan().SequenceEqual(references[r])) Interlocked.Increment(ref mismatches);
        }
        catch (Exception e)
        {
            Interlocked.Increment(ref errors);
            lock (firstErrors) if (firstErrors.Count < 5) firstErrors.Add(e.Message.Split('\n')[0]);
        }
        Interlocked.Increment(ref iterations);
    }
}) { IsBackground = true }).ToList();

var clock = Stopwatch.StartNew();
collector.Start();
threads.ForEach(t => t.Start());
threads.ForEach(t => t.Join());
collector.Join();
Console.WriteLine($"{mode}: {iterations} iterations on {workers} thread(s) in {clock.Elapsed.TotalSeconds:F1} s, {collections} collections; " +
                  $"{mismatches} results differed, {errors} threw");
Console.WriteLine($"reference SHA-256 (compare across builds: the numbers themselves): {Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(references[0]))[..16]}");
foreach (var e in firstErrors) Console.WriteLine($"  {e}");
return mismatches + errors > 0 ? 1 : 0;

// About 60 libtorch calls that each read a Scalar; returns the results' bytes.
static Func<byte[]> Snippet(bool held)
{
    var x = randn([4, 32], generator: new Generator(7));
    var mask = x.lt(0.ToScalar());
    return () =>
    {
        using var scope = NewDisposeScope();
        var parts = new List<Tensor>();
        for (int i = 0; i < 8; i++)
        {
            if (held)
            {
                using var two = 2.ToScalar();
                using var half = 0.5.ToScalar();
                using var epsilon = 1e-6.ToScalar();
                using var one = 1.ToScalar();
                using var hidden = (-1e9).ToScalar();
                using var zero = 0.ToScalar();
                using var n = x.shape[1].ToScalar();
                using var three = 3.ToScalar();
                var y = (x.pow(two) * half).add(epsilon, alpha: one).add(x, alpha: one).masked_fill(mask, hidden);
                parts.Add(y.add(arange(zero, n, one, ScalarType.Float32), alpha: one) / three);
            }
            else
            {
                var y = (x.pow(2) * 0.5 + 1e-6 + x).masked_fill(mask, -1e9);
                parts.Add((y + arange(x.shape[1], ScalarType.Float32)) / 3);
            }
        }
        return cat(parts, 0).bytes.ToArray();
    };
}

// stories260k with LoRA (rank 4, dropout 0.1, B ≠ 0): the loss and every adapter gradient, as bytes.
static Func<byte[]> Model()
{
    var model = PretrainedLoader.Load(Path.Combine(RepoRoot(), "models", "stories260k"), ScalarType.Float32, CPU, new LoraSettings(4, 8, 0.1, LoraSettings.AllProjections));
    using (var generator = new Generator(11))
    using (no_grad())
    {
        foreach (var (_, adapter) in model.Adapters())
        {
            adapter.ResetAdapter(generator);
            using var scale = 0.1.ToScalar();
            using var b = randn(adapter.lora_B.weight.shape, generator: generator) * scale;
            adapter.lora_B.weight.copy_(b);
        }
    }
    model.train();
    var random = new Random(5);
    int[][] Rows(int count) => [.. Enumerable.Range(0, count).Select(_ => Enumerable.Range(0, random.Next(4, 24)).Select(_ => random.Next(3, 512)).Append(2).ToArray())];
    var (queries, positives, negatives) = (Rows(4), Rows(4), Rows(4));
    var trainable = model.TrainableParameters().ToList();
    return () =>
    {
        using var scope = NewDisposeScope(); // holds every tensor made here, the gradients' wrappers included
        model.DropoutGenerator.ManualSeed(11);
        foreach (var p in trainable) p.grad?.zero_();
        var loss = InfoNceLoss.Compute(EmbeddingPass.Embed(model, queries), EmbeddingPass.Embed(model, positives), EmbeddingPass.Embed(model, negatives), 0.02);
        loss.backward();
        return cat([loss.reshape(1), .. trainable.Select(p => p.grad!.flatten())], 0).bytes.ToArray();
    };
}

static string RepoRoot()
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        if (File.Exists(Path.Combine(dir.FullName, "Trainer.sln"))) return dir.FullName;
    for (var dir = new DirectoryInfo(Environment.CurrentDirectory); dir is not null; dir = dir.Parent)
        if (File.Exists(Path.Combine(dir.FullName, "Trainer.sln"))) return dir.FullName;
    throw new DirectoryNotFoundException("run from inside the repository (no Trainer.sln above the current folder)");
}
