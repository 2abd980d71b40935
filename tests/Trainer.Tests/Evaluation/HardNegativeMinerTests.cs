using System.Globalization;
using System.Text.Json;
using Trainer.Data;
using Trainer.Evaluation;
using static Trainer.Tests.Evaluation.MiningFixture;

namespace Trainer.Tests.Evaluation;

/// <summary>
/// Mining against an independent ranking (<see cref="MiningFixture.Ranking"/>): the negatives are exactly the ranked
/// documents of the window once the excluded ones are removed, and the output is training data.
/// </summary>
public class HardNegativeMinerTests
{
    private const int MaxLength = 32;

    private static MineOptions Options(string train, string? corpus, string output) =>
        new(TestPaths.TinyMistral, train, output) { CorpusPath = corpus, MaxLength = MaxLength, BatchSize = 4, ChunkDocuments = 7 };

    /// <summary>Row r's expected candidates: the independent ranking of <paramref name="pool"/> without its excluded texts.</summary>
    private static List<string> Candidates(int r, IReadOnlyList<string> pool, string? defaultInstruction = null) =>
        Ranking(Rows[r].Query, Rows[r].Instruction ?? defaultInstruction, pool, MaxLength).Where(t => !Excluded(r, defaultInstruction).Contains(t)).ToList();

    [Fact]
    public void The_whole_range_is_every_document_but_the_positives_their_copies_and_the_query_in_rank_order()
    {
        var (folder, corpus, train) = Write();
        var output = Path.Combine(folder, "mined.jsonl");
        var log = new StringWriter();
        var summary = HardNegativeMiner.Mine(Options(train, corpus, output) with { RangeStart = 0, RangeEnd = 1000, Negatives = 1000 }, log);

        Assert.Equal((5, 4, 30, 5, 0, 0), (summary.Rows, summary.Queries, summary.Documents, summary.ShortRows, summary.NormalizedPositives, summary.MissingPositives));
        Assert.Empty(summary.MissingExamples);
        Assert.Contains($"{corpus}: 30 distinct documents (1 exact-text duplicate(s) and 1 empty document(s) left out)", log.ToString());
        var lines = ReadOutput(output);
        Assert.Equal(5, lines.Count);
        for (int r = 0; r < Rows.Length; r++) Assert.Equal(Candidates(r, CorpusTexts()), lines[r].Neg);
        // rows 0 and 1 share a query: neither gets d3 (row 0's positive, also the text of d3-copy) nor d5 (row 1's)
        foreach (var r in new[] { 0, 1 })
        {
            Assert.DoesNotContain(DocumentText(3), lines[r].Neg);
            Assert.DoesNotContain(DocumentText(5), lines[r].Neg);
            Assert.Equal(28, lines[r].Neg.Count);
        }
        Assert.Equal(28, lines[2].Neg.Count);                // d7, d8
        Assert.DoesNotContain(DocumentText(10), lines[3].Neg); // the query's own text, which ranks first
        Assert.Equal(28, lines[3].Neg.Count);
        Assert.Equal(29, lines[4].Neg.Count);
        Assert.Equal(Ranking(Rows[3].Query, null, CorpusTexts(), MaxLength)[0], DocumentText(10));
    }

    /// <summary>
    /// Issue #26: a positive written "title\ntext" (the corpus joins "title. text") or with other whitespace was not
    /// found, so its own document came back as a negative, silently. Now it is found after normalising; a positive
    /// that is nowhere in the corpus is counted and named (file:line and its start) in the log and the summary.
    /// </summary>
    [Fact]
    public void A_positive_written_title_newline_text_is_found_in_the_corpus_and_never_its_own_negative()
    {
        var (folder, corpus, _) = Write();
        var train = Path.Combine(folder, "split.jsonl");
        string split = Document(3).Title + "\n" + Document(3).Text, spaced = "  " + DocumentText(5).Replace(" ", "   \t", StringComparison.Ordinal);
        const string nowhere = "A claim about kidneys that no document of this corpus makes.";
        File.WriteAllLines(train,
        [
            JsonSerializer.Serialize(new { query = Rows[0].Query, pos = new[] { split } }),
            JsonSerializer.Serialize(new { query = Rows[4].Query, pos = new[] { spaced } }),
            JsonSerializer.Serialize(new { query = Rows[2].Query, pos = new[] { DocumentText(7), nowhere } }),
        ]);
        var output = Path.Combine(folder, "mined.jsonl");
        var log = new StringWriter();
        var summary = HardNegativeMiner.Mine(Options(train, corpus, output) with { RangeStart = 0, RangeEnd = 1000, Negatives = 1000 }, log);

        var lines = ReadOutput(output);
        Assert.Equal([split], lines[0].Pos);
        Assert.DoesNotContain(DocumentText(3), lines[0].Neg);
        Assert.DoesNotContain(DocumentText(5), lines[1].Neg);
        Assert.DoesNotContain(DocumentText(7), lines[2].Neg);
        Assert.Equal([29, 29, 29], lines.Select(l => l.Neg.Count));
        Assert.Equal((2, 1), (summary.NormalizedPositives, summary.MissingPositives));
        string named = $"{train}:3: \"A claim about kidneys that no document o…\"";
        Assert.Equal([named], summary.MissingExamples);
        Assert.Contains($"mine: 2 positive(s) matched a document of {corpus} only after normalising whitespace or the title/text join", log.ToString());
        Assert.Contains($"mine: warning: 1 positive(s) are not in {corpus}, so nothing is excluded as theirs and a near copy may be mined as a negative; first 1: {named}. ", log.ToString());
    }

    /// <summary>
    /// --absolute-margin against the independent scores. The query's positives are its 1st and 3rd ranked documents,
    /// so its positive score is the 3rd's (the lowest), and the 2nd ranked document, above it, is skipped like the
    /// two candidates after it; the window is counted after them.
    /// </summary>
    [Fact]
    public void The_absolute_margin_skips_candidates_near_the_weakest_positive_before_ranks_are_counted()
    {
        var (folder, corpus, _) = Write();
        string query = Rows[2].Query;
        var ranking = Ranking(query, null, CorpusTexts(), MaxLength);
        var scores = Scores(query, null, ranking, MaxLength);
        var train = Path.Combine(folder, "top.jsonl");
        File.WriteAllLines(train, [JsonSerializer.Serialize(new { query, pos = new[] { ranking[0], ranking[2] } })]);
        // the ceiling halfway between the 5th and 6th ranked documents: ranks 2, 4 and 5 are skipped
        double margin = scores[2] - (scores[4] + scores[5]) / 2;
        Assert.True(margin > 1e-4 && scores[4] - scores[5] > 1e-4, $"the fixture no longer suits: {string.Join(", ", scores.Take(6))}");
        var output = Path.Combine(folder, "mined.jsonl");
        var log = new StringWriter();
        HardNegativeMiner.Mine(Options(train, corpus, output) with { RangeStart = 2, RangeEnd = 8, Negatives = 100, AbsoluteMargin = margin }, log);

        Assert.Equal(ranking.GetRange(5 + 2, 6), ReadOutput(output)[0].Neg);   // ranks 3..8 of those below the ceiling
        Assert.Contains($"mine: skipping candidates with score > positive - {margin.ToString(CultureInfo.InvariantCulture)} (positive: the query's lowest-scoring positive)", log.ToString());
    }

    /// <summary>--max-score against the independent scores of every row: nothing above it, nothing below it left out.</summary>
    [Fact]
    public void Max_score_leaves_every_candidate_at_or_below_it_and_no_other()
    {
        var (folder, corpus, train) = Write();
        var all = Enumerable.Range(0, Rows.Length).Select(r => Scores(Rows[r].Query, Rows[r].Instruction, Candidates(r, CorpusTexts()), MaxLength)).ToList();
        // halfway between row 0's 5th and 6th candidates
        double max = (all[0][4] + all[0][5]) / 2;
        var output = Path.Combine(folder, "max.jsonl");
        HardNegativeMiner.Mine(Options(train, corpus, output) with { RangeStart = 0, RangeEnd = 1000, Negatives = 1000, MaxScore = max });

        var lines = ReadOutput(output);
        for (int r = 0; r < Rows.Length; r++)
            Assert.Equal(Candidates(r, CorpusTexts()).Where((_, i) => all[r][i] <= max), lines[r].Neg);
        Assert.Equal(Candidates(0, CorpusTexts()).Skip(5), lines[0].Neg);

        // below every score: no row gets a negative, and the log says the guards did it
        var log = new StringWriter();
        var summary = HardNegativeMiner.Mine(Options(train, corpus, output) with { MaxScore = -1 }, log);
        Assert.Equal(5, summary.ShortRows);
        Assert.All(ReadOutput(output), line => Assert.Empty(line.Neg));
        Assert.Contains("mine: 5 row(s) had fewer than 7 candidates in ranks 11-100 of those the guards let through and got all they had", log.ToString());
    }

    /// <summary>--relative-margin against the independent scores: the positive is the query's top document; the ceiling falls between the 2nd and 3rd candidates.</summary>
    [Fact]
    public void The_relative_margin_skips_candidates_above_a_fraction_of_the_positive()
    {
        var (folder, corpus, _) = Write();
        var (query, instruction) = (Rows[4].Query, Rows[4].Instruction);
        var ranking = Ranking(query, instruction, CorpusTexts(), MaxLength);
        var scores = Scores(query, instruction, ranking, MaxLength);
        var train = Path.Combine(folder, "top.jsonl");
        File.WriteAllLines(train, [JsonSerializer.Serialize(new { query, pos = new[] { ranking[0] }, instruction })]);
        double relative = 1 - (scores[2] + scores[3]) / 2 / scores[0];    // candidates are ranks 2.., so ranks 2 and 3 are skipped
        Assert.True(relative is > 0 and < 1 && scores[2] - scores[3] > 1e-4, $"the fixture no longer suits: {string.Join(", ", scores.Take(4))}");
        var output = Path.Combine(folder, "mined.jsonl");
        HardNegativeMiner.Mine(Options(train, corpus, output) with { RangeStart = 1, RangeEnd = 4, Negatives = 100, RelativeMargin = relative });

        Assert.Equal(ranking.GetRange(3 + 1, 3), ReadOutput(output)[0].Neg);
    }

    [Fact]
    public void Negatives_come_from_the_rank_window_counted_after_the_exclusions()
    {
        var (folder, corpus, train) = Write();
        var all = Path.Combine(folder, "all.jsonl");
        var sampled = Path.Combine(folder, "sampled.jsonl");
        const string instruction = "Retrieve the matching study";
        HardNegativeMiner.Mine(Options(train, corpus, all) with { RangeStart = 4, RangeEnd = 12, Negatives = 100, Instruction = instruction });
        var summary = HardNegativeMiner.Mine(Options(train, corpus, sampled) with { RangeStart = 4, RangeEnd = 12, Negatives = 3, Instruction = instruction });

        Assert.Equal(0, summary.ShortRows);
        var whole = ReadOutput(all);
        var some = ReadOutput(sampled);
        for (int r = 0; r < Rows.Length; r++)
        {
            var window = Candidates(r, CorpusTexts(), instruction).GetRange(4, 8);   // ranks 5..12
            Assert.Equal(window, whole[r].Neg);
            Assert.Equal(3, some[r].Neg.Count);
            var ranks = some[r].Neg.Select(n => window.IndexOf(n)).ToList();
            Assert.All(ranks, rank => Assert.True(rank >= 0, $"row {r}: a negative outside ranks 5-12"));
            Assert.Equal(ranks.Order(), ranks);              // written in rank order, no repeats
            Assert.Equal(3, ranks.Distinct().Count());
            Assert.Equal(Rows[r].Instruction, some[r].Instruction); // --instruction embeds, but is not written
        }
    }

    [Fact]
    public void Mining_is_byte_identical_for_a_seed_and_differs_for_another()
    {
        var (folder, corpus, train) = Write();
        var outputs = new[] { "a.jsonl", "b.jsonl", "c.jsonl" }.Select(name => Path.Combine(folder, name)).ToArray();
        var options = Options(train, corpus, outputs[0]) with { RangeStart = 2, RangeEnd = 20, Negatives = 4 };
        HardNegativeMiner.Mine(options);
        HardNegativeMiner.Mine(options with { OutputPath = outputs[1], BatchSize = 3, ChunkDocuments = 100 });
        HardNegativeMiner.Mine(options with { OutputPath = outputs[2], Seed = 7 });

        Assert.Equal(File.ReadAllBytes(outputs[0]), File.ReadAllBytes(outputs[1]));
        Assert.NotEqual(File.ReadAllText(outputs[0]), File.ReadAllText(outputs[2]));
        Assert.All(ReadOutput(outputs[2]), line => Assert.Equal(4, line.Neg.Count));
        Assert.Equal(["a.jsonl", "b.jsonl", "c.jsonl", "corpus.jsonl", "train.jsonl"], Directory.GetFiles(folder).Select(Path.GetFileName).Order());
    }

    [Fact]
    public void The_output_reads_back_as_training_data_with_the_rows_positives_and_own_instructions()
    {
        var (folder, corpus, train) = Write();
        var output = Path.Combine(folder, "mined.jsonl");
        HardNegativeMiner.Mine(Options(train, corpus, output) with { RangeStart = 1, RangeEnd = 9, Negatives = 2 });

        var lines = ReadOutput(output);
        var examples = TrainingDataReader.Read([output], defaultInstruction: null, skipInvalid: false).Examples;
        Assert.Equal(Rows.Length, examples.Count);
        for (int r = 0; r < Rows.Length; r++)
        {
            Assert.Equal(Rows[r].Query, examples[r].Query);
            Assert.Equal(Rows[r].Positives, examples[r].Positives);
            Assert.Equal(Rows[r].Instruction, examples[r].Instruction);
            Assert.Equal(lines[r].Neg, examples[r].Negatives);
            Assert.Equal(2, examples[r].Negatives.Count);
            Assert.DoesNotContain(examples[r].Negatives, Excluded(r).Contains);
            Assert.Contains(examples[r].Draw(seed: 42, epoch: 0, row: r).Negative, examples[r].Negatives);
        }
    }

    [Fact]
    public void Without_a_corpus_the_rows_own_positives_and_negatives_are_the_pool()
    {
        var (folder, _, train) = Write();
        var output = Path.Combine(folder, "mined.jsonl");
        var summary = HardNegativeMiner.Mine(Options(train, null, output) with { RangeStart = 0, RangeEnd = 100, Negatives = 100 });

        var pool = Rows.SelectMany(r => r.Positives.Concat(r.Negatives)).Distinct().ToList();
        Assert.Equal(7, pool.Count);                          // d3, d5, d7, d8, the old negative, d11, d12
        Assert.Equal(pool.Count, summary.Documents);
        var lines = ReadOutput(output);
        for (int r = 0; r < Rows.Length; r++) Assert.Equal(Candidates(r, pool), lines[r].Neg);
        Assert.Equal([5, 5, 5, 6, 6], lines.Select(l => l.Neg.Count));
        Assert.Contains(OldNegative, lines[0].Neg);
    }

    [Fact]
    public void Sampling_is_uniform_without_repeats_in_candidate_order_and_a_function_of_seed_and_row()
    {
        var candidates = Enumerable.Range(0, 10).ToList();
        var counts = new int[10];
        for (int row = 0; row < 3000; row++)
        {
            var sample = HardNegativeMiner.Sample(candidates, 3, seed: 42, row);
            Assert.Equal(3, sample.Distinct().Count());
            Assert.Equal(sample.Order(), sample);
            foreach (var c in sample) counts[c]++;
        }
        // each candidate is drawn with probability 3/10: 900 of 3000 expected, standard deviation 25
        Assert.All(counts, c => Assert.InRange(c, 800, 1000));
        Assert.Equal(HardNegativeMiner.Sample(candidates, 3, 42, 5), HardNegativeMiner.Sample(candidates, 3, 42, 5));
        int differ = Enumerable.Range(0, 100).Count(row => !HardNegativeMiner.Sample(candidates, 3, 42, row).SequenceEqual(HardNegativeMiner.Sample(candidates, 3, 43, row)));
        Assert.InRange(differ, 95, 100);
        Assert.Equal([0, 1, 2, 3], HardNegativeMiner.Sample(candidates.GetRange(0, 4), 7, 42, 0));
    }

    [Theory]
    [InlineData("10")]
    [InlineData("10-10")]
    [InlineData("20-10")]
    [InlineData("-1-10")]
    [InlineData("1-2-3")]
    public void A_range_must_be_start_below_end(string text)
    {
        var e = Assert.Throws<ArgumentException>(() => MineOptions.ParseRange(text));
        Assert.Equal($"--range {text} is invalid; give START-END with 0 <= START < END, e.g. 10-100 (1-based ranks START+1 to END).", e.Message);
        Assert.Equal((10, 100), MineOptions.ParseRange("10-100"));
        Assert.Equal((0, 1), MineOptions.ParseRange("0-1"));
    }
}
