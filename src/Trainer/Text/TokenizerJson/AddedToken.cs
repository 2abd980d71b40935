namespace Trainer.Text.TokenizerJson;

/// <summary>One entry of <c>added_tokens</c>, with the flags that decide how its text is found in a user's text.</summary>
public sealed record AddedToken(int Id, string Content, bool Special, bool SingleWord, bool LStrip, bool RStrip, bool Normalized);
