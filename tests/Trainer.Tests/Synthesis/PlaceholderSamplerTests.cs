using Trainer.Synthesis;

namespace Trainer.Tests.Synthesis;

public class PlaceholderSamplerTests
{
    private static List<SortedDictionary<string, string>> Draw(SynthGroup group, int count, LanguageTable? languages = null)
    {
        var random = new Random(7);
        return Enumerable.Range(0, count).Select(_ => PlaceholderSampler.Sample(group, languages ?? LanguageTable.Default(), random)).ToList();
    }

    private static string[] Values(IEnumerable<SortedDictionary<string, string>> draws, string key) => draws.Select(d => d[key]).Distinct().Order().ToArray();

    [Fact]
    public void Short_long_draws_every_value_of_the_papers_sets()
    {
        var draws = Draw(SynthGroup.ShortLong, 2000);
        Assert.Equal(["clarity", "difficulty", "language", "num_words", "query_length", "query_type"], draws[0].Keys);
        Assert.Equal(PlaceholderSampler.QueryTypes.Order(), Values(draws, "query_type"));
        Assert.Equal(["5 to 15 words", "at least 10 words", "less than 5 words"], Values(draws, "query_length"));
        Assert.Equal(["100", "200", "300", "400", "50", "500"], Values(draws, "num_words"));
        Assert.Equal(["college", "high school", "PhD"], Values(draws, "difficulty").Order(StringComparer.OrdinalIgnoreCase));
    }

    [Fact]
    public void Long_short_draws_its_word_counts_with_difficulty_and_clarity()
    {
        var draws = Draw(SynthGroup.LongShort, 2000);
        Assert.Equal(["clarity", "difficulty", "language", "num_words"], draws[0].Keys);
        Assert.Equal(["at least 10", "at least 100", "at least 200", "at least 50", "less than 10"], Values(draws, "num_words"));
    }

    [Fact]
    public void Sts_and_bitext_low_scores_are_not_swapped()
    {
        Assert.Equal(["2.5", "3", "3.5"], Values(Draw(SynthGroup.Sts, 500), "low_score"));
        Assert.Equal(["1.5", "2", "2.5"], Values(Draw(SynthGroup.Bitext, 500), "low_score"));
        Assert.Equal(["4", "4.5", "5"], Values(Draw(SynthGroup.Bitext, 500), "high_score"));
        Assert.Equal(["college", "elementary school", "high school"], Values(Draw(SynthGroup.Sts, 500), "difficulty"));
        Assert.Equal(["passage", "phrase", "sentence"], Values(Draw(SynthGroup.Sts, 500), "unit"));
    }

    [Fact]
    public void Bitext_never_pairs_a_language_with_itself_even_with_two_languages()
    {
        var two = new LanguageTable([("English", 0.9), ("French", 0.1)]);
        var draws = Draw(SynthGroup.Bitext, 1000, two);
        Assert.All(draws, d => Assert.NotEqual(d["src_lang"], d["tgt_lang"]));
        Assert.Contains(draws, d => d["src_lang"] == "French");
        Assert.Contains(draws, d => d["src_lang"] == "English");
    }

    [Fact]
    public void The_default_languages_are_xlmr_weighted_as_in_the_paper()
    {
        var table = LanguageTable.Default();
        Assert.Equal(100, table.Names.Count);
        Assert.Equal(1.0, table.Weights.Sum(), 9);
        Assert.Equal(0.431, table.Weights[table.Names.ToList().IndexOf("English")]);
        Assert.Equal(0.029, table.Weights[table.Names.ToList().IndexOf("Persian")]);
        double rest = (1 - 0.431 - 13 * 0.029) / 86;
        Assert.Equal(rest, table.Weights[table.Names.ToList().IndexOf("Swahili")], 12);
        var random = new Random(1);
        double english = Enumerable.Range(0, 20000).Count(_ => table.Sample(random) == "English") / 20000.0;
        Assert.InRange(english, 0.41, 0.45);
    }

    [Fact]
    public void A_language_file_replaces_the_list_and_bad_lines_are_named()
    {
        var dir = TestPaths.TempDir("synth-languages");
        var good = Path.Combine(dir, "good.tsv");
        File.WriteAllText(good, "# name, weight\nEnglish, 3\nSwahili\t1\n");
        var table = LanguageTable.Load(good);
        Assert.Equal(["English", "Swahili"], table.Names);
        Assert.Equal([3.0, 1.0], table.Weights);
        var bad = Path.Combine(dir, "bad.tsv");
        File.WriteAllText(bad, "English, 3\nSwahili, -1\n");
        Assert.Equal($"{bad}:2: expected \"name, weight\" with a positive weight, got \"Swahili, -1\".", Assert.Throws<InvalidDataException>(() => LanguageTable.Load(bad)).Message);
    }

    [Fact]
    public void Groups_are_mixed_in_the_papers_proportions()
    {
        var random = new Random(3);
        var counts = Enumerable.Range(0, 50000).Select(_ => PlaceholderSampler.PickGroup(SynthGroup.All, random).Name).CountBy(n => n).ToDictionary();
        double total = SynthGroup.All.Sum(g => g.PaperRows);
        foreach (var group in SynthGroup.All) Assert.InRange(counts[group.Name] / 50000.0, group.PaperRows / total - 0.01, group.PaperRows / total + 0.01);
        var two = Enumerable.Range(0, 10000).Select(_ => PlaceholderSampler.PickGroup([SynthGroup.LongLong, SynthGroup.ShortShort], random)).Count(g => g == SynthGroup.LongLong);
        Assert.InRange(two / 10000.0, 17.0 / 30 - 0.02, 17.0 / 30 + 0.02);
    }
}
