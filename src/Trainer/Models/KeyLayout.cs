namespace Trainer.Models;

/// <summary>
/// How a pretrained model's weight files spell tensor names: the model's parameter names (<c>layers.0.mlp.up_proj.weight</c>)
/// behind <see cref="Prefix"/>, <c>"model."</c> for Hugging Face <c>…ForCausalLM</c> checkpoints and <c>""</c> for bare
/// <c>…Model</c> ones (e5-mistral-7b-instruct). <see cref="PretrainedLoader"/> reads it from the files, the model
/// carries it unchanged, and PEFT adapter keys spell their base keys the same way.
/// </summary>
public sealed record KeyLayout(string Prefix)
{
    public static readonly KeyLayout Bare = new("");

    public static readonly KeyLayout CausalLm = new("model.");

    /// <summary>The layout of these stored names: <see cref="CausalLm"/> when any carries the <c>model.</c> prefix.</summary>
    public static KeyLayout Of(IEnumerable<string> storedNames) =>
        storedNames.Any(n => n.StartsWith(CausalLm.Prefix, StringComparison.Ordinal)) ? CausalLm : Bare;

    /// <summary>The stored name of a model parameter.</summary>
    public string Stored(string parameterName) => Prefix + parameterName;
}
