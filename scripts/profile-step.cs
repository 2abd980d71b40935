#:project ../src/Trainer/Trainer.csproj
#:property PublishAot=false
// Where a training step's time goes, section by section, on a config's model and batches (docs/profile.md).
//   dotnet run -c Release scripts/profile-step.cs -- CONFIG.yaml STEPS [THREADS] [MAX_LENGTH] [key.path=value ...]
// Copies of the model train side by side on the same batches, their steps interleaved so that machine load hits all
// alike (VARIANTS=after,packed picks some; default all four):
//   before: [queries; positives; negatives] in one batch padded to the common length, explicit additive mask,
//           loss.item() and libtorch's clip_grad_norm_ (two host reads per step);
//   causal: the same batch, attention by the causal kernel where exact, loss and gradient norm read once;
//   after:  as causal, with queries and documents padded separately when their longest rows differ;
//   packed: as after, with the layers on the real tokens alone (MistralModel.PackTokens; TrainingRun's step).
// The first three compute every position of the padded grid (PackTokens off), as the trainer did before packing.
using System.Diagnostics;
using System.Globalization;
using TorchSharp.Modules;
using Trainer.Config;
using Trainer.Data;
using Trainer.Losses;
using Trainer.Models;
using Trainer.Models.Mistral;
using Trainer.Text;
using Trainer.Training;
using static TorchSharp.torch;

var config = ConfigLoader.Load(args[0], args.Skip(4));
int steps = int.Parse(args[1], CultureInfo.InvariantCulture);
if (args.Length > 2 && args[2] != "default") set_num_threads(int.Parse(args[2], CultureInfo.InvariantCulture));
int maxLength = args.Length > 3 && args[3] != "default" ? int.Parse(args[3], CultureInfo.InvariantCulture) : config.Model.MaxLength;
var t = config.Training;
var tokenizer = EmbeddingTokenizer.Load(config.Model.Path, ModelFamilies.Load(Path.Combine(config.Model.Path, PretrainedLoader.ConfigFile)).Config);
var data = TrainingDataReader.Read(config.Data.Train, config.Data.DefaultInstruction, false);
var order = EpochOrder.For(data.Examples.Count, t.Seed, 0, config.Data.Shuffle);
int stepsPerEpoch = data.Examples.Count / t.BatchSize;

var wanted = (Environment.GetEnvironmentVariable("VARIANTS") ?? "before,causal,after,packed").Split(',');
var variants = wanted.Select(name => new Variant(name, config)).ToArray();
long tokens = 0;
for (int step = 0; step < steps; step++)
{
    int index = step % stepsPerEpoch * t.BatchSize;
    var clock = Stopwatch.StartNew();
    var batch = ContrastiveBatch.Build(data.Examples, order[index..(index + t.BatchSize)], t.Seed, 0, tokenizer, maxLength);
    double build = clock.Elapsed.TotalMilliseconds;
    tokens += batch.TokenCount;
    foreach (var v in variants) v.Step(batch, build, warmup: step == 0);
}
Console.WriteLine($"{config.Model.Path}: {steps} steps of {t.BatchSize} rows (the first, warm-up, not counted), max_length {maxLength}, {get_num_threads()} torch thread(s), {tokens / steps} real tokens per step");
foreach (var v in variants) v.Report(steps - 1);

sealed class Variant
{
    private readonly string _name;
    private readonly TrainConfig _config;
    private readonly MistralModel _model;
    private readonly List<Parameter> _trainable;
    private readonly Trainer.Training.AdamW _optimizer;
    private readonly Dictionary<string, List<double>> _ms = [];
    private readonly List<double> _steps = [];
    private long _padded, _real;

    public Variant(string name, TrainConfig config)
    {
        if (name is not ("before" or "causal" or "after" or "packed")) throw new ArgumentException($"VARIANTS: '{name}' is not one of before, causal, after, packed");
        (_name, _config) = (name, config);
        var t = config.Training;
        _model = (MistralModel)PretrainedLoader.Load(config.Model.Path, ScalarType.Float32, CPU, config.Lora.ToSettings());
        using (var g = new Generator((ulong)t.Seed)) foreach (var (_, a) in _model.Adapters()) a.ResetAdapter(g);
        _model.DropoutGenerator.ManualSeed(t.Seed);
        _model.ExplicitMask = name == "before";
        _model.PackTokens = name == "packed";
        _model.train();
        _trainable = _model.TrainableParameters().ToList();
        _optimizer = new Trainer.Training.AdamW(_trainable, t.LearningRate, t.AdamBeta1, t.AdamBeta2, t.AdamEpsilon, t.WeightDecay);
    }

    public void Step(ContrastiveBatch batch, double buildMs, bool warmup)
    {
        var sections = new List<(string, double)> { ("build batch (tokenize)", buildMs) };
        var clock = Stopwatch.StartNew();
        void Lap(string section) { sections.Add((section, clock.Elapsed.TotalMilliseconds)); clock.Restart(); }
        using var scope = NewDisposeScope();
        _model.zero_grad();
        Lap("zero_grad");
        int n = batch.Size, m = batch.Negatives.Count;
        bool before = _name == "before";
        var groups = _name is "after" or "packed" ? batch.PaddingGroups() : [batch.AllRows()];
        var e = cat(groups.Select(g => EmbeddingPass.Embed(_model, g)).ToList(), 0); // [q; p; n]
        foreach (var g in groups) Count(g);
        Lap("forward");
        var loss = InfoNceLoss.Compute(e.narrow(0, 0, n), e.narrow(0, n, n), m > 0 ? e.narrow(0, 2 * n, m) : null, _config.Loss.Temperature);
        Lap("loss");
        loss.backward();
        _model.RecomputedGradients.Release();
        Lap("backward");
        double value, norm;
        if (before)
        {
            value = loss.item<float>();
            norm = nn.utils.clip_grad_norm_(_trainable, _config.Training.MaxGradNorm ?? 0);
            Lap("clip + host reads");
        }
        else
        {
            var total = GradientClipping.ClipByGlobalNorm(_trainable, _config.Training.MaxGradNorm);
            var read = stack([loss.detach(), total]).cpu().data<float>();
            (value, norm) = (read[0], read[1]);
            Lap("clip + host reads");
        }
        if (double.IsFinite(value) && double.IsFinite(norm)) _optimizer.step();
        Lap("optimizer.step");
        if (warmup) return;
        foreach (var (section, ms) in sections) (_ms.TryGetValue(section, out var list) ? list : _ms[section] = []).Add(ms);
        _steps.Add(sections.Sum(x => x.Item2));
    }

    private void Count(List<int[]> rows)
    {
        _padded += (long)rows.Count * rows.Max(r => r.Length);
        _real += rows.Sum(r => (long)r.Length);
    }

    /// <summary>Mean and median per step, and each section's median (medians resist the load spikes of a shared machine).</summary>
    public void Report(int steps)
    {
        static double Median(List<double> xs) { var a = xs.Order().ToArray(); return a.Length % 2 == 1 ? a[a.Length / 2] : (a[a.Length / 2 - 1] + a[a.Length / 2]) / 2; }
        double mean = _steps.Average(), median = Median(_steps);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{_name}: mean {mean:F1} ms/step ({1000 / mean:F2} steps/s), median {median:F1} ms/step ({1000 / median:F2} steps/s); {100.0 * _real / _padded:F0}% of the padded positions are real tokens"));
        foreach (var (section, ms) in _ms) Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {section,-24} median {Median(ms),9:F2} ms {100 * Median(ms) / median,6:F1}%"));
    }
}
