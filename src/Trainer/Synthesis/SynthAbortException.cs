namespace Trainer.Synthesis;

/// <summary>A condition that stops the whole run at once (a refused API key, an unknown model, a server that does not answer), with a one-line message.</summary>
public sealed class SynthAbortException(string message) : InvalidOperationException(message);
