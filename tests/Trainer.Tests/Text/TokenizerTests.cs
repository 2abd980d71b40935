using System.Text.Json;
using Trainer.Text;

namespace Trainer.Tests.Text;

public class TokenizerTests
{
    private static readonly SentencePieceBpe Mistral = SentencePieceBpe.Load(Path.Combine(TestPaths.TinyMistral, "tokenizer.model"));

    public static TheoryData<string, int[]> NpmCases()
    {
        var data = new TheoryData<string, int[]>();
        using var doc = JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture("tokenizer", "mistral-tokenizer-js.testcases.json")));
        foreach (var c in doc.RootElement.EnumerateArray()) data.Add(c.GetProperty("text").GetString()!, Golden.Ints(c.GetProperty("ids")));
        return data;
    }

    /// <summary>Case number first: the file repeats some inputs, and each line is its own test.</summary>
    public static TheoryData<int, string, int[]> SentencePieceCases()
    {
        var data = new TheoryData<int, string, int[]>();
        using var doc = JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture("tokenizer", "mistral-spm.generated-vectors.json")));
        int index = 0;
        foreach (var c in doc.RootElement.GetProperty("cases").EnumerateArray())
            data.Add(index++, c.GetProperty("text").GetString()!, [1, .. Golden.Ints(c.GetProperty("ids_no_bos"))]);
        return data;
    }

    [Fact]
    public void All_59_vectors_are_present()
    {
        Assert.Equal(12, NpmCases().Count);
        Assert.Equal(47, SentencePieceCases().Count);
    }

    [Theory]
    [MemberData(nameof(NpmCases))]
    public void Matches_mistral_tokenizer_js(string text, int[] expected) => Assert.Equal(expected, Mistral.Encode(text));

    [Theory]
    [MemberData(nameof(SentencePieceCases))]
    public void Matches_reference_sentencepiece(int index, string text, int[] expected)
    {
        Assert.InRange(index, 0, 46); // 47 vectors
        Assert.Equal(expected, Mistral.Encode(text));
    }

    [Fact]
    public void Repeated_punctuation_merges_like_sentencepiece()
    {
        // Microsoft.ML.Tokenizers 2.0.1 gives [1, 918, 13915, 3946] here.
        Assert.Equal([1, 918, 3946, 13915], Mistral.Encode("!!!!!!"));
    }

    [Fact]
    public void Empty_text_is_bos_only() => Assert.Equal([1], Mistral.Encode(""));

    [Fact]
    public void Eos_written_in_text_is_text()
    {
        var ids = Mistral.Encode("a </s> b");
        Assert.DoesNotContain(Mistral.EosId, ids);
        Assert.Equal("a </s> b", Mistral.Decode(ids));
    }

    [Fact]
    public void Embedding_tokenizer_formats_truncates_and_appends_eos()
    {
        var tokenizer = new EmbeddingTokenizer(Mistral);
        var full = tokenizer.Encode("hello world, this is a longer text", "Find it", maxLength: 512);
        Assert.Equal(Mistral.Encode("Instruct: Find it\nQuery: hello world, this is a longer text").Append(2), full);

        var cut = tokenizer.Encode("hello world, this is a longer text", "Find it", maxLength: 6);
        Assert.Equal(6, cut.Length);
        Assert.Equal(full.Take(5).Append(2), cut);
    }
}
