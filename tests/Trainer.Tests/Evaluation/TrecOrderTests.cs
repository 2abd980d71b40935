using System.Text;
using Trainer.Evaluation;

namespace Trainer.Tests.Evaluation;

public class TrecOrderTests
{
    [Theory]
    [InlineData("d1", "d10", -1)]
    [InlineData("d10", "d2", -1)] // strings, not numbers
    [InlineData("Z", "a", -1)]
    [InlineData("ab", "abc", -1)]
    [InlineData("z", "\u00E9", -1)]
    [InlineData("\uFFFD", "\U0001F600", -1)] // UTF-8 EF.. < F0..; UTF-16 code units would say FFFD > D83D
    [InlineData("\uE000", "\U0001F600", -1)]
    [InlineData("\U0001F600", "\U0001F601", -1)]
    [InlineData("same", "same", 0)]
    public void Ids_compare_like_strcmp_on_utf8(string a, string b, int expected)
    {
        Assert.Equal(expected, Math.Sign(TrecOrder.CompareIds(a, b)));
        Assert.Equal(-expected, Math.Sign(TrecOrder.CompareIds(b, a)));
    }

    [Fact]
    public void Ids_compare_like_their_utf8_bytes_for_mixed_random_strings()
    {
        string[] pieces = ["a", "b", "0", "\u00E9", "\u0800", "\uD7FF", "\uE000", "\uFFFD", "\U00010000", "\U0001F600", "\U0010FFFF"];
        var random = new Random(11);
        string Next() => string.Concat(Enumerable.Range(0, random.Next(0, 4)).Select(_ => pieces[random.Next(pieces.Length)]));
        for (int i = 0; i < 5000; i++)
        {
            string a = Next(), b = Next();
            int bytes = Encoding.UTF8.GetBytes(a).AsSpan().SequenceCompareTo(Encoding.UTF8.GetBytes(b));
            Assert.Equal(Math.Sign(bytes), Math.Sign(TrecOrder.CompareIds(a, b)));
        }
    }

    [Fact]
    public void Runs_are_ordered_by_score_then_by_descending_id()
    {
        ScoredDoc[] run = [new("d1", 0.5), new("d2", 0.9), new("d10", 0.5), new("d9", 0.5), new("x", -1), new("a", 0.9)];
        Assert.Equal(["d2", "a", "d9", "d10", "d1", "x"], run.Order(TrecOrder.Instance).Select(d => d.DocId));
    }

    [Fact]
    public void A_query_run_with_a_repeated_document_is_refused()
    {
        var qrels = new Dictionary<string, IReadOnlyDictionary<string, int>> { ["q"] = new Dictionary<string, int> { ["d1"] = 1 } };
        var run = new Dictionary<string, IReadOnlyList<ScoredDoc>> { ["q"] = [new("d1", 1), new("d2", 0.5), new("d1", 0.2)] };
        var e = Assert.Throws<ArgumentException>(() => RetrievalMetrics.Evaluate(qrels, run));
        Assert.Equal("query \"q\": document \"d1\" appears twice in one query's run; trec_eval refuses duplicates.", e.Message);
    }
}
