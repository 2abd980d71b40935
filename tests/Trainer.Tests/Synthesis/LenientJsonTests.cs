using System.Text.Json;
using Trainer.Synthesis;

namespace Trainer.Tests.Synthesis;

public class LenientJsonTests
{
    private static string Field(string text, string key) => LenientJson.ParseObject(text)!.Value.GetProperty(key).GetString()!;

    [Fact]
    public void Strict_json_is_read_as_is() => Assert.Equal("a \"b\"", Field("""{"S1": "a \"b\"", "S2": "c"}""", "S1"));

    [Fact]
    public void A_fenced_answer_with_prose_around_it_is_read() =>
        Assert.Equal("q", Field("Sure! Here it is:\n```json\n{\"user_query\": \"q\"}\n```\nHope it helps.", "user_query"));

    [Fact]
    public void The_first_balanced_object_is_taken_braces_inside_strings_ignored() =>
        Assert.Equal("x } y", Field("The answer is {\"a\": \"x } y\", \"b\": {\"c\": 1}} and then {\"a\": \"other\"}", "a"));

    [Fact]
    public void Trailing_commas_are_removed_outside_strings_only()
    {
        var json = LenientJson.ParseObject("{\"a\": \"one, }\", \"b\": [\"x\", \"y\",],\n}")!.Value;
        Assert.Equal("one, }", json.GetProperty("a").GetString());
        Assert.Equal(2, json.GetProperty("b").GetArrayLength());
    }

    [Fact]
    public void Raw_control_characters_inside_strings_are_escaped() =>
        Assert.Equal("line one\nline\ttwo\u0001", Field("{\"a\": \"line one\nline\ttwo\u0001\"}", "a"));

    [Theory]
    [InlineData("{\"a\": \"cut off in the mid")]
    [InlineData("no json here")]
    [InlineData("[\"a list\", \"not an object\"]")]
    [InlineData("")]
    public void Text_without_a_complete_object_gives_null(string text) => Assert.Null(LenientJson.ParseObject(text));

    [Fact]
    public void Code_in_an_answer_stays_text()
    {
        // a Python expression where a value should be is not JSON: the answer does not parse (nothing evaluates it)
        Assert.Null(LenientJson.ParseObject("{\"a\": __import__('os').getcwd()}"));
        Assert.Equal(JsonValueKind.String, LenientJson.ParseObject("{\"a\": \"__import__('os').getcwd()\"}")!.Value.GetProperty("a").ValueKind);
    }
}
