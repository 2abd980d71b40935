namespace Trainer.Evaluation.Passkey;

/// <summary>
/// One person of a <see cref="PasskeySet"/>: the name, the passkey, the query that asks for it, and the document that
/// gives it, as the token ids the model reads (prefix tokens such as BOS, the text, the pooled suffix such as EOS).
/// </summary>
/// <param name="Text">The document's text before the cut: its ids are this text's, cut to the set's length.</param>
public sealed record PasskeyCandidate(string Name, int Passkey, string Query, int[] DocumentIds, string Text);
