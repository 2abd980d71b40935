using System.Text.Json;
using Trainer.Evaluation.Mteb;

namespace Trainer.Tests.Evaluation.Mteb;

/// <summary>
/// Our result files have the shape of MTEB's published ones (Fixtures/mteb/*.e5-mistral.json, copied from
/// embeddings-benchmark/results): the same top-level keys, each value of the same JSON kind, and per split and subset
/// the same measure names (except MTEB's nAUC confidence measures for reranking, which we do not compute).
/// </summary>
public class MtebResultShapeTests
{
    [Theory]
    [InlineData("STS", "BIOSSES")]
    [InlineData("Reranking", "AskUbuntuDupQuestions")]
    [InlineData("Classification", "Banking77Classification")]
    public void A_result_file_has_the_shape_of_a_published_one(string type, string published)
    {
        var options = new MtebOptions { Experiments = 10 };
        var task = MtebTask.Resolve(published, null, null);
        Assert.Equal(type, MtebTaskTypes.Name(task.Type));
        var result = MtebEvaluator.Evaluate(MtebTaskData.Load(task, HandMadeSets.Write(type), "test", options), new VectorEncoder(), options);
        using var ours = JsonDocument.Parse(MtebResultFile.Serialize(result));
        using var theirs = JsonDocument.Parse(File.ReadAllBytes(TestPaths.Fixture("mteb", published + ".e5-mistral.json")));

        AssertSameShape(theirs.RootElement, ours.RootElement, "", ignore: k => k.StartsWith("nAUC_", StringComparison.Ordinal));
        Assert.Equal(published, ours.RootElement.GetProperty("task_name").GetString());
        Assert.Equal(MtebResultFile.FormatVersion, theirs.RootElement.GetProperty("mteb_version").GetString());
        var subset = ours.RootElement.GetProperty("scores").GetProperty("test")[0];
        Assert.Equal(result.MainScore("test"), subset.GetProperty("main_score").GetDouble());
    }

    /// <summary>Keys equal (bar ignored ones), kinds equal, recursively; arrays compare their first elements; a null may stand for a number (kg_co2_emissions).</summary>
    private static void AssertSameShape(JsonElement expected, JsonElement actual, string path, Func<string, bool> ignore)
    {
        if (expected.ValueKind == JsonValueKind.Number && actual.ValueKind == JsonValueKind.Null && path.EndsWith("kg_co2_emissions", StringComparison.Ordinal)) return;
        Assert.True(expected.ValueKind == actual.ValueKind, $"{path}: {actual.ValueKind}, published {expected.ValueKind}");
        if (expected.ValueKind == JsonValueKind.Object)
        {
            var want = expected.EnumerateObject().Select(p => p.Name).Where(k => !ignore(k)).ToList();
            Assert.Equal(want, actual.EnumerateObject().Select(p => p.Name).ToList()); // and in the same (sorted) order
            foreach (var key in want) AssertSameShape(expected.GetProperty(key), actual.GetProperty(key), $"{path}.{key}", ignore);
        }
        else if (expected.ValueKind == JsonValueKind.Array && expected.GetArrayLength() > 0)
        {
            if (path.EndsWith("languages", StringComparison.Ordinal)) return; // unknown for local data: []
            Assert.True(actual.GetArrayLength() > 0, $"{path}: empty");
            AssertSameShape(expected[0], actual[0], path + "[0]", ignore);
        }
    }

    [Fact]
    public void The_summary_averages_main_scores_by_type_and_over_everything()
    {
        var table = MtebResultFile.SummaryTable([("STS", "A", 0.5), ("STS", "B", 0.7), ("Clustering", "C", 0.3)]);
        Assert.Matches(@"STS\s+2\s+60\.00", table);
        Assert.Matches(@"Clustering\s+1\s+30\.00", table);
        Assert.Matches(@"all tasks\s+3\s+50\.00", table);
        Assert.Matches(@"mean of types\s+2\s+45\.00", table);
    }

    [Theory]
    [InlineData("STS")]
    [InlineData("PairClassification")]
    [InlineData("Reranking")]
    [InlineData("Classification")]
    [InlineData("Clustering")]
    [InlineData("Summarization")]
    [InlineData("BitextMining")]
    public void A_result_file_of_a_task_outside_the_table_is_typed_by_its_measures(string type)
    {
        var options = new MtebOptions { Experiments = 2 };
        var result = MtebEvaluator.Evaluate(MtebTaskData.Load(MtebTask.Resolve("MyOwn" + type, MtebTaskTypes.Parse(type, "type"), null), HandMadeSets.Write(type), "test", options),
            new VectorEncoder(), options);
        var path = Path.Combine(TestPaths.TempDir("mteb-typed"), "MyOwn.json");
        File.WriteAllBytes(path, MtebResultFile.Serialize(result));
        Assert.Equal((type, "MyOwn" + type, result.MainScore("test")), MtebResultFile.ReadMain(path, "test"));
    }
}
