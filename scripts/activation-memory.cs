#:project ../src/Trainer/Trainer.csproj
#:property PublishAot=false
// What autograd keeps for one training forward on the CPU, measured, beside MemoryEstimate's per-token figure
// (`train --dry-run`), on a config's model and its first batch. Dev-only (docs/benchmarks.md).
//   [PACK_TOKENS=false] dotnet run -c Release scripts/activation-memory.cs -- CONFIG.yaml [key.path=value ...]
// PACK_TOKENS=false computes the whole padded grid (MistralModel.PackTokens), as the trainer did before packing; the
// estimate then counts every position as a token.
// glibc's mallinfo2 gives the bytes in use (heap + mmap); libtorch's CPU tensors come from malloc. "kept" is what a
// forward leaves allocated until backward (the saved activations and the outputs), "peak" is the highest in-use
// value during backward, sampled every 0.2 ms, both above the level before the forward.
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Trainer.Config;
using Trainer.Data;
using Trainer.Losses;
using Trainer.Models;
using Trainer.Text;
using Trainer.Training;
using static TorchSharp.torch;

var config = ConfigLoader.Load(args[0], args.Skip(1));
var t = config.Training;
var model = PretrainedLoader.Load(config.Model.Path, DTypes.Parse(config.Model.DType, "model.dtype"), CPU, config.Lora.ToSettings());
using (var g = new Generator((ulong)t.Seed)) foreach (var (_, a) in model.Adapters()) a.ResetAdapter(g);
model.DropoutGenerator.ManualSeed(t.Seed);
model.GradientCheckpointing = config.Model.GradientCheckpointing;
bool pack = Environment.GetEnvironmentVariable("PACK_TOKENS") != "false";
((Trainer.Models.Mistral.MistralModel)model).PackTokens = pack;
model.train();
var tokenizer = EmbeddingTokenizer.Load(config.Model.Path, model.Family.Config);
var data = TrainingDataReader.Read(config.Data.Train, config.Data.DefaultInstruction, false);
var order = EpochOrder.For(data.Examples.Count, t.Seed, 0, config.Data.Shuffle);
var batch = ContrastiveBatch.Build(data.Examples, order[..t.BatchSize], t.Seed, 0, tokenizer, config.Model.MaxLength);
var groups = batch.PaddingGroups();
long padded = groups.Sum(g => (long)g.Count * g.Max(r => r.Length));
long real = pack ? groups.Sum(g => g.Sum(r => (long)r.Length)) : padded;

(long Kept, long Peak) Step()
{
    model.zero_grad();
    GC.Collect();
    long before = Malloc.InUse();
    using var scope = NewDisposeScope();
    int n = batch.Size, m = batch.Negatives.Count;
    var e = cat(groups.Select(g => EmbeddingPass.Embed(model, g)).ToList(), 0);
    var loss = InfoNceLoss.Compute(e.narrow(0, 0, n), e.narrow(0, n, n), m > 0 ? e.narrow(0, 2 * n, m) : null, config.Loss.Temperature);
    long kept = Malloc.InUse() - before;
    long peak = 0;
    bool done = false;
    var sampler = new Thread(() => { while (!Volatile.Read(ref done)) { peak = Math.Max(peak, Malloc.InUse()); Thread.Sleep(TimeSpan.FromTicks(2000)); } });
    sampler.Start();
    loss.backward();
    model.RecomputedGradients.Release();
    Volatile.Write(ref done, true);
    sampler.Join();
    return (kept, Math.Max(peak, Malloc.InUse()) - before);
}

Step(); // warm-up: gradients, optimizer-free persistent buffers, libtorch's caches
var (kept, peakUse) = Step();
var m = model.Family.Config;
int d = DTypes.ElementSize(DTypes.Parse(config.Model.DType, "model.dtype"));
bool ckpt = config.Model.GradientCheckpointing;
var (keptEstimate, peakEstimate) = MemoryEstimate.Forward(m, config.Lora.ToSettings(), d, groups.Max(g => g.Max(r => r.Length)), real, padded, ckpt);
long perLayer = MemoryEstimate.ActivationBytesPerTokenPerLayer(m, config.Lora.ToSettings(), d, groups.Max(g => g.Max(r => r.Length)));
static string M(long b) => (b / (double)(1 << 20)).ToString("F1", CultureInfo.InvariantCulture) + " MiB";
Console.WriteLine($"{config.Model.Path}: {m.NumHiddenLayers} layers, hidden {m.HiddenSize}, {config.Model.DType}, dropout {config.Lora.Dropout}, checkpointing {ckpt}; " +
    $"first batch: {batch.Size} rows, groups {string.Join(" + ", groups.Select(g => $"{g.Count}x{g.Max(r => r.Length)}"))} = {padded:N0} padded positions, {real:N0} real tokens");
Console.WriteLine($"kept after forward: measured {M(kept)}, estimate {M(keptEstimate)} (measured/estimate {kept / (double)keptEstimate:F2}); " +
    $"peak during backward: measured {M(peakUse)}, estimate {M(peakEstimate)} ({peakUse / (double)peakEstimate:F2}); estimate per token per layer {perLayer:N0} B");

static class Malloc
{
    [StructLayout(LayoutKind.Sequential)]
    private struct MallInfo2
    {
        public nuint Arena, Ordblks, Smblks, Hblks, Hblkhd, Usmblks, Fsmblks, Uordblks, Fordblks, Keepcost;
    }

    [DllImport("libc", EntryPoint = "mallinfo2")]
    private static extern MallInfo2 Info();

    /// <summary>Bytes malloc has handed out and not had back: the heap's in-use chunks plus mmap'ed blocks.</summary>
    public static long InUse() { var i = Info(); return (long)(i.Uordblks + i.Hblkhd); }
}
