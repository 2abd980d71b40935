using Trainer.Evaluation;
using static Trainer.Evaluation.DocumentLookup.Match;

namespace Trainer.Tests.Evaluation;

/// <summary>Positives against corpus texts built as <see cref="BeirDataset.DocumentText"/> builds them.</summary>
public class DocumentLookupTests
{
    private static readonly string[] Corpus =
    [
        BeirDataset.DocumentText("Sleep and the liver", "Night shifts change liver enzymes."),   // "Sleep and the liver. Night shifts …"
        BeirDataset.DocumentText("Does diet matter?", "Yes, in mice."),                            // "Does diet matter? Yes, in mice."
        "An untitled   abstract\nover two lines.",
        BeirDataset.DocumentText("", "A text alone."),
    ];

    [Theory]
    [InlineData("Sleep and the liver. Night shifts change liver enzymes.", 0, Exact)]
    [InlineData("Sleep and the liver\nNight shifts change liver enzymes.", 0, Normalized)]          // title\ntext
    [InlineData("  Sleep and the liver\n\n  Night shifts change liver enzymes.\n", 0, Normalized)]
    [InlineData("Sleep  and the liver.\tNight shifts change liver enzymes.", 0, Normalized)]         // whitespace only
    [InlineData("Does diet matter?\nYes, in mice.", 1, Normalized)]                                 // no '.' after '?'
    [InlineData("An untitled abstract over two lines.", 2, Normalized)]
    [InlineData("A text alone.", 3, Exact)]
    [InlineData("Sleep and the liver Night shifts change liver enzymes.", -1, None)]               // the join's '.' is missing
    [InlineData("Sleep and the liver\nNight shifts change liver enzymes", -1, None)]               // a different text
    [InlineData("Night shifts change liver enzymes.", -1, None)]                                   // the text without its title
    public void A_positive_is_found_exactly_else_after_normalising_whitespace_and_the_title_join(string positive, int document, DocumentLookup.Match how) =>
        Assert.Equal((document, how), new DocumentLookup(Corpus).Find(positive));

    [Fact]
    public void Normalising_makes_each_whitespace_run_one_space_and_trims() =>
        Assert.Equal("a b c", DocumentLookup.Normalize(" \ta \n\n b\u00A0 c\r\n"));

    [Fact]
    public void Add_keeps_the_first_of_each_exact_text_and_the_same_index_finds_exact_and_normalised_texts()
    {
        var lookup = new DocumentLookup();
        Assert.True(lookup.Add("a  b"));
        Assert.False(lookup.Add("a  b"));
        Assert.True(lookup.Add("a b")); // the same once normalised, but not the same text
        Assert.True(lookup.Add("c"));
        Assert.False(lookup.Add("c"));

        Assert.Equal(["a  b", "a b", "c"], lookup.Documents);
        Assert.Equal(1, lookup.IndexOf("a b"));
        Assert.Equal(2, lookup.IndexOf("c"));
        Assert.Equal(-1, lookup.IndexOf(" c")); // IndexOf is exact only
        Assert.Equal((1, Exact), lookup.Find("a b"));
        Assert.Equal((0, Normalized), lookup.Find(" a\tb "));
        Assert.Equal((2, Normalized), lookup.Find(" c"));
    }
}
