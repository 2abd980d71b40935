namespace Trainer.Evaluation.Passkey;

/// <summary>The passkey curve under one RoPE base: the model's own (<see cref="Given"/> false) or <c>--rope-theta</c>'s.</summary>
public sealed record PasskeyRun(double RopeTheta, bool Given, IReadOnlyList<PasskeyLengthResult> Lengths);
