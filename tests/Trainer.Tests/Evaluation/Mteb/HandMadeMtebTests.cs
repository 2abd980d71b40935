using Trainer.Evaluation.Mteb;

namespace Trainer.Tests.Evaluation.Mteb;

/// <summary>
/// Each task type against its hand-made set: the scores equal those of the independent reference
/// (tests/reference/mteb_reference.py: Spearman with ties, AP over thresholds, best accuracy/F1 thresholds, V-measure,
/// logistic regression by torch's L-BFGS, weighted F1), read through the JSONL hub layout and scored by the type's evaluator.
/// </summary>
public class HandMadeMtebTests
{
    private static MtebResult Evaluate(string type, MtebOptions? options = null, string? instruction = "Hand-made instruction")
    {
        var task = MtebTask.Resolve("HandMade" + type, MtebTaskTypes.Parse(type, "type"), instruction);
        var encoder = new VectorEncoder();
        var data = MtebTaskData.Load(task, HandMadeSets.Write(type), "test", options ?? new MtebOptions());
        var result = MtebEvaluator.Evaluate(data, encoder, options ?? new MtebOptions());
        // e5: every input of a non-retrieval type carries the instruction; only classification is unnormalised
        Assert.All(encoder.Calls, c => Assert.Equal(instruction, c.Instruction));
        Assert.All(encoder.Calls, c => Assert.Equal(type != "Classification", c.Normalize));
        return result;
    }

    private static void AssertMatches(string type, MtebResult result, double tolerance = 1e-6)
    {
        var scores = result.Scores["test"].Single();
        Assert.Equal("default", scores["hf_subset"]);
        foreach (var (key, expected) in HandMadeSets.Expected(type))
            Assert.True(Math.Abs((double)scores[key] - expected) <= tolerance, $"{type} {key}: {scores[key]} against the reference's {expected}");
    }

    [Theory]
    [InlineData("STS")]
    [InlineData("PairClassification")]
    [InlineData("Reranking")]
    [InlineData("Summarization")]
    [InlineData("BitextMining")]
    [InlineData("Clustering")]
    public void A_type_scores_its_hand_made_set_as_the_reference_does(string type) => AssertMatches(type, Evaluate(type));

    [Fact]
    public void Classification_fits_logistic_regression_on_the_train_split_as_the_reference_does()
    {
        // 6 train rows per label and samples_per_label 8: every experiment trains on all of them, as the reference does once
        var result = Evaluate("Classification", new MtebOptions { SamplesPerLabel = 8, Experiments = 3 });
        AssertMatches("Classification", result);
        var scores = result.Scores["test"].Single();
        var experiments = (List<SortedDictionary<string, double>>)scores["scores_per_experiment"];
        Assert.Equal(3, experiments.Count);
        Assert.All(experiments, e => Assert.Equal(HandMadeSets.Expected("Classification")["accuracy"], e["accuracy"]));
    }

    [Fact]
    public void Logistic_regression_reaches_the_optimum_torch_lbfgs_finds()
    {
        var set = HandMadeSets.Set("Classification");
        var train = set["train"]!.AsArray().Select(r => (Text: r!["text"]!.GetValue<string>(), Label: r["label"]!.GetValue<int>().ToString(System.Globalization.CultureInfo.InvariantCulture))).ToList();
        var model = LogisticRegression.Fit(train.Select(r => HandMadeSets.Vectors[r.Text]).ToList(), train.Select(r => r.Label).ToList());
        var reference = set["weights"]!.AsArray().Select(w => w!.GetValue<double>()).ToArray();
        Assert.Equal(["0", "1", "2"], model.Classes);
        Assert.True(model.Iterations < LogisticRegression.MaxIterations, $"took {model.Iterations} iterations");
        for (int i = 0; i < reference.Length; i++)
            Assert.True(Math.Abs(model.Weights[i] - reference[i]) < 2e-3, $"weight {i}: {model.Weights[i]} against torch's {reference[i]}");
    }

    [Fact]
    public void Undersampling_takes_up_to_n_rows_per_label_from_a_shuffle_carried_across_experiments()
    {
        var labels = Enumerable.Range(0, 40).Select(i => i % 4 == 0 ? "rare" : "common").ToList(); // 10 rare, 30 common
        var samples = ClassificationEvaluator.Samples(labels, new MtebOptions { SamplesPerLabel = 8, Experiments = 3, Seed = 7 });
        Assert.Equal(3, samples.Count);
        foreach (var sample in samples)
        {
            Assert.Equal(8, sample.Count(i => labels[i] == "rare"));
            Assert.Equal(8, sample.Count(i => labels[i] == "common"));
            Assert.Equal(sample.Count, sample.Distinct().Count());
        }
        Assert.NotEqual(samples[0], samples[1]);
        Assert.Equal(samples, ClassificationEvaluator.Samples(labels, new MtebOptions { SamplesPerLabel = 8, Experiments = 3, Seed = 7 })); // seeded
    }
}
