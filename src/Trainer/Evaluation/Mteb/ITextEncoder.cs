namespace Trainer.Evaluation.Mteb;

/// <summary>What the MTEB evaluators need of a model: texts → embeddings, in input order.</summary>
public interface ITextEncoder
{
    /// <param name="instruction">Put before every text as the query template writes it (e5: <c>Instruct: …\nQuery: </c>); null: none.</param>
    /// <param name="normalize">L2-normalise each embedding (false only for classification, as e5 evaluates).</param>
    float[][] Encode(IReadOnlyList<string> texts, string? instruction, bool normalize);
}
