namespace Trainer.Evaluation.Mteb;

/// <summary>
/// Summarization as MTEB's <c>SummarizationEvaluator</c>: columns <c>text</c>, <c>human_summaries</c>,
/// <c>machine_summaries</c> (lists of texts) and <c>relevance</c> (a human score per machine summary). Each machine
/// summary is scored by its best cosine similarity (and dot product) to the text's human summaries; per text, the
/// Spearman and Pearson correlation of those scores with the human ones; texts whose human or predicted scores are all
/// equal are skipped, as MTEB skips them. The means over texts are reported (<c>cosine_*</c>, <c>dot_*</c>, and
/// unprefixed for the model's similarity, cosine); the main score is <c>cosine_spearman</c>.
/// </summary>
public static class SummarizationEvaluator
{
    public static SortedDictionary<string, object> Evaluate(IReadOnlyList<MtebRow> rows, ITextEncoder encoder, MtebTask task)
    {
        var human = rows.Select(r => r.Texts("human_summaries")).ToList();
        var machine = rows.Select(r => r.Texts("machine_summaries")).ToList();
        var relevance = rows.Select(r => r.Numbers("relevance")).ToList();
        for (int i = 0; i < rows.Count; i++)
        {
            if (machine[i].Count != relevance[i].Count)
                throw new InvalidDataException($"{rows[i].Where}: column \"machine_summaries\" holds {machine[i].Count} summaries but \"relevance\" {relevance[i].Count} scores; they must match.");
            if (human[i].Count == 0) throw new InvalidDataException($"{rows[i].Where}, column \"human_summaries\": empty.");
        }
        var humanEmbeddings = encoder.Encode(human.SelectMany(h => h).ToList(), task.Instruction, task.Normalize);
        var machineEmbeddings = encoder.Encode(machine.SelectMany(m => m).ToList(), task.Instruction, task.Normalize);
        var (cosS, cosP, dotS, dotP) = (new List<double>(), new List<double>(), new List<double>(), new List<double>());
        int h0 = 0, m0 = 0;
        for (int i = 0; i < rows.Count; i++)
        {
            var humans = humanEmbeddings.Skip(h0).Take(human[i].Count).ToList();
            var cosine = new List<double>();
            var dot = new List<double>();
            for (int m = 0; m < machine[i].Count; m++)
            {
                var e = machineEmbeddings[m0 + m];
                cosine.Add(humans.Max(h => Similarity.Cosine(e, h)));
                dot.Add(humans.Max(h => Similarity.Dot(e, h)));
            }
            h0 += human[i].Count;
            m0 += machine[i].Count;
            if (relevance[i].Distinct().Count() == 1 || cosine.Distinct().Count() == 1 || dot.Distinct().Count() == 1) continue;
            cosS.Add(Correlation.Spearman(relevance[i], cosine));
            cosP.Add(Correlation.Pearson(relevance[i], cosine));
            dotS.Add(Correlation.Spearman(relevance[i], dot));
            dotP.Add(Correlation.Pearson(relevance[i], dot));
        }
        if (cosS.Count == 0) throw new InvalidDataException("every text has equal human or predicted scores for all its machine summaries; there is no correlation to measure.");
        return new SortedDictionary<string, object>(StringComparer.Ordinal)
        {
            ["cosine_spearman"] = cosS.Average(),
            ["cosine_pearson"] = cosP.Average(),
            ["dot_spearman"] = dotS.Average(),
            ["dot_pearson"] = dotP.Average(),
            ["spearman"] = cosS.Average(),
            ["pearson"] = cosP.Average(),
            ["main_score"] = cosS.Average(),
        };
    }
}
