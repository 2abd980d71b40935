using System.Diagnostics;
using TorchSharp;
using Trainer.Models;
using Trainer.Models.Lora;
using Trainer.Models.Mistral;
using Trainer.Models.Modules;
using Trainer.Training;
using static TorchSharp.torch;

namespace Trainer.Benchmarks;

/// <summary>
/// The <see cref="IStepTimer"/> of <c>trainer benchmark train --breakdown</c>: wall time per step phase
/// (<see cref="StepPhase"/>), and the forward's time per module kind (<see cref="ModuleKind"/>), summed over the steps
/// after the first <c>warmup</c>. On CUDA it synchronises the device at every boundary, so a phase's time is the time
/// its kernels took, not the time their launches took; that takes away the overlap of host and device, so a step runs
/// somewhat slower than without it. On the CPU there is nothing to synchronise.
///
/// The module times come from forward pre- and post-hooks on the model's modules, which also synchronise; each call
/// is timed inclusively (attention holds its projections). The hooks count only inside a forward, from a
/// <see cref="StepPhase.PadAndCopy"/> boundary to the next boundary, so the recomputes of gradient checkpointing
/// during backward are neither timed nor slowed.
/// </summary>
public sealed class StepBreakdown(int warmup) : IStepTimer
{
    private static readonly int Phases = Enum.GetValues<StepPhase>().Length, Kinds = Enum.GetValues<ModuleKind>().Length;
    private readonly double[] _phaseSeconds = new double[Phases];
    private readonly long[] _phaseLaps = new long[Phases];
    private readonly double[] _moduleSeconds = new double[Kinds], _pendingSeconds = new double[Kinds];
    private readonly long[] _moduleCalls = new long[Kinds], _pendingCalls = new long[Kinds];
    private readonly Stack<long> _open = new();
    private EmbeddingDecoder? _model;
    private Device? _cuda;
    private bool _checkpointing;
    private int _started, _timed;
    private long _stepStart, _boundary;
    private double _stepSeconds;
    private bool _inForward;

    private bool Timed => _started > warmup;

    public void Attach(EmbeddingDecoder model)
    {
        if (_model is not null) throw new InvalidOperationException("--breakdown times one model (one replica); a second was attached.");
        _model = model;
        _cuda = model.Device.type == DeviceType.CUDA ? model.Device : null;
        _checkpointing = model.GradientCheckpointing;
        Hook(model, ModuleKind.Model);
        foreach (var (path, module) in model.named_modules())
            if (KindOf(path, module) is ModuleKind kind) Hook(module, kind);
    }

    public void StepStarted()
    {
        _started++;
        _open.Clear();
        Array.Clear(_pendingSeconds);
        Array.Clear(_pendingCalls);
        _inForward = false;
        Synchronize();
        _stepStart = _boundary = Stopwatch.GetTimestamp();
    }

    public void Lap(StepPhase phase)
    {
        Synchronize();
        long now = Stopwatch.GetTimestamp();
        if (Timed)
        {
            _phaseSeconds[(int)phase] += Stopwatch.GetElapsedTime(_boundary, now).TotalSeconds;
            _phaseLaps[(int)phase]++;
            for (int k = 0; k < Kinds; k++)
            {
                _moduleSeconds[k] += _pendingSeconds[k];
                _moduleCalls[k] += _pendingCalls[k];
            }
        }
        Array.Clear(_pendingSeconds);
        Array.Clear(_pendingCalls);
        _inForward = phase == StepPhase.PadAndCopy; // every forward starts right after its batch is on the device
        _boundary = now;
    }

    public void StepEnded()
    {
        Synchronize();
        if (Timed)
        {
            _stepSeconds += Stopwatch.GetElapsedTime(_stepStart).TotalSeconds;
            _timed++;
        }
        _inForward = false;
    }

    /// <summary>The means per timed step (the steps after the warm-up).</summary>
    public StepBreakdownReport Report()
    {
        if (_timed == 0) throw new InvalidOperationException("--breakdown: no step was timed (every step was a warm-up step).");
        double n = _timed;
        var phases = Enum.GetValues<StepPhase>().Where(p => _phaseLaps[(int)p] > 0)
            .Select(p => new StepBreakdownReport.PhaseTime(p, _phaseLaps[(int)p] / n, _phaseSeconds[(int)p] / n)).ToList();
        var modules = Enum.GetValues<ModuleKind>().Where(k => _moduleCalls[(int)k] > 0)
            .Select(k => new StepBreakdownReport.ModuleTime(k, _moduleCalls[(int)k] / n, _moduleSeconds[(int)k] / n)).ToList();
        return new StepBreakdownReport(_timed, _stepSeconds / n, phases, modules, Synchronised: _cuda is not null, GradientCheckpointing: _checkpointing);
    }

    /// <summary>The kind a module's forward is counted under, by its type and (for norms and projections) where it sits; null: not timed.</summary>
    private static ModuleKind? KindOf(string path, nn.Module module) => module switch
    {
        Embedding => ModuleKind.Embedding,
        MistralDecoderLayer => ModuleKind.Layer,
        MistralAttention => ModuleKind.Attention,
        MistralMlp => ModuleKind.Mlp,
        RmsNorm => path.StartsWith("layers.", StringComparison.Ordinal) ? ModuleKind.LayerNorm : ModuleKind.FinalNorm,
        LoraLinear or Linear when Parent(path).EndsWith("self_attn", StringComparison.Ordinal) => ModuleKind.AttentionProjection,
        LoraLinear or Linear when Parent(path).EndsWith("mlp", StringComparison.Ordinal) => ModuleKind.MlpProjection,
        _ => null, // a LoraLinear's lora_A and lora_B count in their projection
    };

    private static string Parent(string path) => path.LastIndexOf('.') is var dot and >= 0 ? path[..dot] : "";

    private void Hook(nn.Module module, ModuleKind kind)
    {
        switch (module)
        {
            case nn.Module<Tensor, Tensor> m:
                m.register_forward_pre_hook(_ => Enter());
                m.register_forward_hook(_ => Exit(kind));
                break;
            case nn.Module<Tensor, AttentionInputs, Tensor> m:
                m.register_forward_pre_hook(_ => Enter());
                m.register_forward_hook(_ => Exit(kind));
                break;
            case nn.Module<Tensor, Tensor, Tensor> m:
                m.register_forward_pre_hook(_ => Enter());
                m.register_forward_hook(_ => Exit(kind));
                break;
            default:
                throw new NotSupportedException($"--breakdown cannot hook {module.GetType().Name} ({kind}): its forward takes other arguments.");
        }
    }

    private void Enter()
    {
        if (!_inForward) return;
        Synchronize();
        _open.Push(Stopwatch.GetTimestamp());
    }

    private void Exit(ModuleKind kind)
    {
        if (!_inForward) return;
        Synchronize();
        _pendingSeconds[(int)kind] += Stopwatch.GetElapsedTime(_open.Pop()).TotalSeconds;
        _pendingCalls[(int)kind]++;
    }

    private void Synchronize()
    {
        if (_cuda is { } device) cuda.synchronize(device);
    }
}
