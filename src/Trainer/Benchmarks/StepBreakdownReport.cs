using System.Globalization;
using System.Text.Json;
using Trainer.Training;

namespace Trainer.Benchmarks;

/// <summary>
/// What <see cref="StepBreakdown"/> measured, as means per timed step: the step's wall time (from tokenizing its batch
/// to the end of its optimizer step), each phase's share of it, and the forward's time per module kind. Printed as two
/// Markdown tables and one JSON line (docs/profile.md, "On a GPU").
/// </summary>
public sealed record StepBreakdownReport(int TimedSteps, double StepSeconds, IReadOnlyList<StepBreakdownReport.PhaseTime> Phases,
    IReadOnlyList<StepBreakdownReport.ModuleTime> Modules, bool Synchronised, bool GradientCheckpointing)
{
    /// <summary>A phase's time per step, and how many times per step it ran (e.g. one pad and copy per forward).</summary>
    public sealed record PhaseTime(StepPhase Phase, double TimesPerStep, double Seconds);

    /// <summary>A module kind's inclusive forward time per step, and its calls per step.</summary>

    public sealed record ModuleTime(ModuleKind Kind, double CallsPerStep, double Seconds);

    private static readonly StepPhase[] ForwardPhases =
        [StepPhase.ForwardAllRows, StepPhase.ForwardQueries, StepPhase.ForwardDocuments, StepPhase.EmbedWithoutGraph, StepPhase.RecomputeForward];

    /// <summary>The step's time that no phase holds (the step minus the phases); at least 0.</summary>
    public double RestSeconds => StepSeconds - Phases.Sum(p => p.Seconds);

    /// <summary>The forwards of the step (every phase that runs the model forward), which the module table divides.</summary>
    public double ForwardSeconds => Phases.Where(p => ForwardPhases.Contains(p.Phase)).Sum(p => p.Seconds);

    public double SecondsOf(ModuleKind kind) => Modules.FirstOrDefault(m => m.Kind == kind)?.Seconds ?? 0;

    public void Print(int firstStep, int lastStep, TextWriter output)
    {
        var inv = CultureInfo.InvariantCulture;
        string sync = Synchronised ? "the device synchronised at every boundary, so the step is slower than the plain figures above" : "CPU: nothing to synchronise";
        output.WriteLine();
        output.WriteLine($"breakdown of steps {firstStep}-{lastStep}, mean per step ({sync}):");
        output.WriteLine();
        output.WriteLine("| phase | times/step | ms/step | % of step |");
        output.WriteLine("|---|---:|---:|---:|");
        foreach (var p in Phases)
            output.WriteLine(string.Create(inv, $"| {Label(p.Phase, GradientCheckpointing)} | {p.TimesPerStep.ToString("0.##", inv)} | {1000 * p.Seconds:F2} | {100 * p.Seconds / StepSeconds:F1}% |"));
        output.WriteLine(string.Create(inv, $"| rest: the step minus the rows above | | {1000 * RestSeconds:F2} | {100 * RestSeconds / StepSeconds:F1}% |"));
        output.WriteLine(string.Create(inv, $"| **step**: tokenize to optimizer step | 1 | **{1000 * StepSeconds:F2}** | 100.0% |"));

        if (Modules.Count > 0)
        {
            output.WriteLine();
            output.WriteLine("forward by module kind: inclusive times, each row holding the rows indented (·) under it; % of the forward rows above" +
                             (Synchronised ? " (the hooks synchronise too)" : ""));
            output.WriteLine();
            output.WriteLine("| module | calls/step | ms/step | % of forward |");
            output.WriteLine("|---|---:|---:|---:|");
            foreach (var (label, calls, seconds) in ModuleRows())
                output.WriteLine(string.Create(inv, $"| {label} | {(calls is double c ? c.ToString("0.##", inv) : "")} | {1000 * seconds:F2} | {100 * seconds / ForwardSeconds:F1}% |"));
        }

        output.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["benchmark"] = "trainer-breakdown",
            ["timed_steps"] = TimedSteps,
            ["synchronised"] = Synchronised,
            ["gradient_checkpointing"] = GradientCheckpointing,
            ["step_ms"] = Math.Round(1000 * StepSeconds, 3),
            ["phases_ms"] = Phases.ToDictionary(p => Key(p.Phase.ToString()), p => Math.Round(1000 * p.Seconds, 3)),
            ["phase_times_per_step"] = Phases.ToDictionary(p => Key(p.Phase.ToString()), p => p.TimesPerStep),
            ["rest_ms"] = Math.Round(1000 * RestSeconds, 3),
            ["forward_ms"] = Math.Round(1000 * ForwardSeconds, 3),
            ["modules_ms"] = Modules.ToDictionary(m => Key(m.Kind.ToString()), m => Math.Round(1000 * m.Seconds, 3)),
            ["module_calls_per_step"] = Modules.ToDictionary(m => Key(m.Kind.ToString()), m => m.CallsPerStep),
        }));
    }

    /// <summary>The module table: the measured kinds as a tree, with a "rest" row under each parent (the parent minus its children).</summary>
    public List<(string Label, double? Calls, double Seconds)> ModuleRows()
    {
        var rows = new List<(string, double?, double)>();
        void Measured(int depth, ModuleKind kind, string label)
        {
            if (Modules.FirstOrDefault(m => m.Kind == kind) is { } m) rows.Add((Indent(depth) + label, m.CallsPerStep, m.Seconds));
        }
        void Rest(int depth, string label, ModuleKind parent, params ModuleKind[] children)
        {
            if (Modules.Any(m => m.Kind == parent)) rows.Add((Indent(depth) + label, null, SecondsOf(parent) - children.Sum(SecondsOf)));
        }
        double model = SecondsOf(ModuleKind.Model);
        rows.Add(("the forward rows above (batches on the device → embeddings)", Modules.FirstOrDefault(m => m.Kind == ModuleKind.Model)?.CallsPerStep, ForwardSeconds));
        Measured(1, ModuleKind.Model, "model forward (the decoder)");
        Measured(2, ModuleKind.Embedding, "embed_tokens (Embedding)");
        Measured(2, ModuleKind.Layer, "layers.N (MistralDecoderLayer), all layers");
        Measured(3, ModuleKind.LayerNorm, "input_layernorm + post_attention_layernorm (RmsNorm)");
        Measured(3, ModuleKind.Attention, "self_attn (MistralAttention)");
        Measured(4, ModuleKind.AttentionProjection, "q_proj, k_proj, v_proj, o_proj (LoraLinear: base matmul + LoRA branch)");
        Rest(4, "rest of self_attn: rotary, repeat_interleave, scaled_dot_product_attention, reshapes", ModuleKind.Attention, ModuleKind.AttentionProjection);
        Measured(3, ModuleKind.Mlp, "mlp (MistralMlp)");
        Measured(4, ModuleKind.MlpProjection, "gate_proj, up_proj, down_proj (LoraLinear: base matmul + LoRA branch)");
        Rest(4, "rest of mlp: silu(gate) × up", ModuleKind.Mlp, ModuleKind.MlpProjection);
        Rest(3, "rest of the layers: residual adds", ModuleKind.Layer, ModuleKind.LayerNorm, ModuleKind.Attention, ModuleKind.Mlp);
        Measured(2, ModuleKind.FinalNorm, "norm (final RmsNorm)");
        Rest(2, "rest of the model: rotary tables, attention mask", ModuleKind.Model, ModuleKind.Embedding, ModuleKind.Layer, ModuleKind.FinalNorm);
        if (model > 0) rows.Add((Indent(1) + "outside the model: last-token pooling, normalisation, concatenation", null, ForwardSeconds - model));
        return rows;
    }

    private static string Indent(int depth) => string.Concat(Enumerable.Repeat("· ", depth));

    public static string Label(StepPhase phase, bool gradientCheckpointing) => phase switch
    {
        StepPhase.Tokenize => "batch: tokenize (host)",
        StepPhase.PadAndCopy => "batch: pad + copy to the device (each forward)",
        StepPhase.ForwardAllRows => "forward: all rows (one padding group)",
        StepPhase.ForwardQueries => "forward: queries",
        StepPhase.ForwardDocuments => "forward: documents [positives; negatives]",
        StepPhase.EmbedWithoutGraph => "GradCache 1: embed without a graph",
        StepPhase.Loss => "loss: similarities + cross-entropy",
        StepPhase.Backward => gradientCheckpointing ? "backward, with each layer's recompute (gradient checkpointing)" : "backward",
        StepPhase.EmbeddingGradients => "GradCache 2: backward to the embeddings",
        StepPhase.RecomputeForward => "GradCache 3: forward again, with a graph",
        StepPhase.RecomputeBackward => "GradCache 3: backward" + (gradientCheckpointing ? ", with each layer's recompute (gradient checkpointing)" : ""),
        StepPhase.ClipAndRead => "clip + host read of loss and grad norm",
        StepPhase.OptimizerStep => "optimizer step (AdamW)",
        StepPhase.ZeroGrad => "zero_grad (at the step's start)",
        _ => phase.ToString(),
    };

    /// <summary>PascalCase → snake_case, for the JSON keys.</summary>
    private static string Key(string name) =>
        string.Concat(name.Select((c, i) => char.IsUpper(c) ? (i > 0 ? "_" : "") + char.ToLowerInvariant(c) : c.ToString()));
}
