#:project ../src/Trainer/Trainer.csproj
#:property PublishAot=false
// Where a training step's time goes, on the quickstart's model and batches, section by section.
// Usage: dotnet run -c Release scripts/profile-step.cs -- CONFIG.yaml STEPS
using System.Diagnostics;
using Trainer.Config;
using Trainer.Data;
using Trainer.Losses;
using Trainer.Models;
using Trainer.Text;
using Trainer.Training;
using static TorchSharp.torch;

var config = ConfigLoader.Load(args[0]);
int steps = int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture);
var t = config.Training;
var tokenizer = EmbeddingTokenizer.Load(config.Model.Path, ModelFamilies.Load(Path.Combine(config.Model.Path, PretrainedLoader.ConfigFile)).Config);
var data = TrainingDataReader.Read(config.Data.Train, config.Data.DefaultInstruction, false);
using var model = PretrainedLoader.Load(config.Model.Path, ScalarType.Float32, CPU, config.Lora.ToSettings());
using (var g = new Generator((ulong)t.Seed)) foreach (var (_, a) in model.Adapters()) a.ResetAdapter(g);
model.DropoutGenerator.manual_seed(t.Seed);
model.train();
var trainable = model.TrainableParameters().ToList();
using var optimizer = new TorchSharp.Modules.AdamW(trainable, t.LearningRate, t.AdamBeta1, t.AdamBeta2, t.AdamEpsilon, t.WeightDecay, false, false);
var order = EpochOrder.For(data.Examples.Count, t.Seed, 0, config.Data.Shuffle);
var sections = new Dictionary<string, double>();
var clock = new Stopwatch();
void Lap(string name) { sections[name] = sections.GetValueOrDefault(name) + clock.Elapsed.TotalMilliseconds; clock.Restart(); }
int stepsPerEpoch = data.Examples.Count / t.BatchSize;
long tokens = 0, padded = 0;
var total = Stopwatch.StartNew();
for (int step = 0; step < steps; step++)
{
    clock.Restart();
    int index = step % stepsPerEpoch * t.BatchSize;
    var batch = ContrastiveBatch.Build(data.Examples, order[index..(index + t.BatchSize)], t.Seed, 0, tokenizer, config.Model.MaxLength);
    var rows = batch.AllRows();
    tokens += batch.TokenCount;
    padded += (long)rows.Count * rows.Max(r => r.Length);
    Lap("1 build batch (tokenize)");
    using var scope = NewDisposeScope();
    model.zero_grad();
    Lap("2 zero_grad");
    var e = EmbeddingPass.Embed(model, rows);
    Lap("3 forward [q; p; n] (one padded batch)");
    int n = batch.Size, m = batch.Negatives.Count;
    var loss = InfoNceLoss.Compute(e.narrow(0, 0, n), e.narrow(0, n, n), m > 0 ? e.narrow(0, 2 * n, m) : null, config.Loss.Temperature);
    Lap("4 loss");
    loss.backward();
    Lap("5 backward");
    float value = loss.item<float>();
    Lap("6 loss.item (sync)");
    double norm = TorchSharp.torch.nn.utils.clip_grad_norm_(trainable, t.MaxGradNorm ?? 1.0);
    Lap("7 clip_grad_norm_ (sync)");
    optimizer.step();
    Lap("8 optimizer.step");
    model.RecomputedGradients.Release();
}
double all = total.Elapsed.TotalMilliseconds;
Console.WriteLine($"{steps} steps, {all / steps:F1} ms/step ({steps * 1000 / all:F2} steps/s); real tokens {tokens}, padded positions {padded} ({100.0 * tokens / padded:F0}% real)");
foreach (var (name, ms) in sections.OrderBy(s => s.Key)) Console.WriteLine($"  {name,-45} {ms / steps,8:F2} ms  {100 * ms / all,5:F1}%");
