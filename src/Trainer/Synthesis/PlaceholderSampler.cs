namespace Trainer.Synthesis;

/// <summary>
/// Draws a generation's placeholders uniformly from the paper's sets, and its language by weight. The sets for sts
/// and bitext differ only in <c>low_score</c> ({2.5, 3, 3.5} against {1.5, 2, 2.5}); bitext's source language is
/// never its target language.
/// </summary>
public static class PlaceholderSampler
{
    public static readonly string[] QueryTypes = ["extremely long-tail", "long-tail", "common"];
    public static readonly string[] QueryLengths = ["less than 5 words", "5 to 15 words", "at least 10 words"];
    public static readonly string[] Clarities = ["clear", "understandable with some effort", "ambiguous"];
    public static readonly string[] ShortLongWords = ["50", "100", "200", "300", "400", "500"];
    public static readonly string[] Difficulties = ["high school", "college", "PhD"];
    public static readonly string[] LongShortWords = ["less than 10", "at least 10", "at least 50", "at least 100", "at least 200"];
    public static readonly string[] HighScores = ["4", "4.5", "5"];
    public static readonly string[] StsLowScores = ["2.5", "3", "3.5"];
    public static readonly string[] BitextLowScores = ["1.5", "2", "2.5"];
    public static readonly string[] Units = ["sentence", "phrase", "passage"];
    public static readonly string[] SymmetricDifficulties = ["elementary school", "high school", "college"];

    /// <summary>
    /// The placeholders of one generation of <paramref name="group"/> (the brainstormed task is added by the caller).
    /// Keys are in ordinal order, so that the request id built from them is stable.
    /// </summary>
    public static SortedDictionary<string, string> Sample(SynthGroup group, LanguageTable languages, Random random)
    {
        var p = new SortedDictionary<string, string>(StringComparer.Ordinal);
        if (group == SynthGroup.Bitext)
        {
            p["tgt_lang"] = languages.Sample(random);
            p["src_lang"] = languages.Sample(random, except: p["tgt_lang"]);
        }
        else
        {
            p["language"] = languages.Sample(random);
        }
        if (group == SynthGroup.ShortLong)
        {
            p["query_type"] = Pick(QueryTypes, random);
            p["query_length"] = Pick(QueryLengths, random);
            p["clarity"] = Pick(Clarities, random);
            p["num_words"] = Pick(ShortLongWords, random);
            p["difficulty"] = Pick(Difficulties, random);
        }
        else if (group == SynthGroup.LongShort)
        {
            p["num_words"] = Pick(LongShortWords, random);
            p["difficulty"] = Pick(Difficulties, random);
            p["clarity"] = Pick(Clarities, random);
        }
        else if (group == SynthGroup.Sts || group == SynthGroup.Bitext)
        {
            p["high_score"] = Pick(HighScores, random);
            p["low_score"] = Pick(group == SynthGroup.Sts ? StsLowScores : BitextLowScores, random);
            p["unit"] = Pick(Units, random);
            p["difficulty"] = Pick(SymmetricDifficulties, random);
        }
        return p;
    }

    /// <summary>The language a row is filed under: the generation's language (bitext: the target language).</summary>
    public static string LanguageOf(IReadOnlyDictionary<string, string> placeholders) =>
        placeholders.TryGetValue("language", out var language) ? language : placeholders["tgt_lang"];

    /// <summary>A group drawn in proportion to the paper's row counts among <paramref name="groups"/>.</summary>
    public static SynthGroup PickGroup(IReadOnlyList<SynthGroup> groups, Random random)
    {
        double target = random.NextDouble() * groups.Sum(g => g.PaperRows);
        foreach (var group in groups)
        {
            if (target < group.PaperRows) return group;
            target -= group.PaperRows;
        }
        return groups[^1];
    }

    private static string Pick(string[] values, Random random) => values[random.Next(values.Length)];
}
