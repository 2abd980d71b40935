namespace Trainer.Evaluation.Mteb;

/// <summary>
/// Classification as MTEB's <c>AbsTaskClassification</c> with its <c>logRegClassificationEvaluator</c>: columns
/// <c>text</c> and <c>label</c> in the train and the evaluated split. <see cref="MtebOptions.Experiments"/> times (10):
/// shuffle the train rows' indices (the shuffled order carries over to the next experiment, as MTEB's does), take the
/// first <see cref="MtebOptions.SamplesPerLabel"/> (8) rows of each label in that order, fit
/// <see cref="LogisticRegression"/> on their embeddings, and predict every evaluated row. Per experiment: accuracy, F1
/// macro (<c>f1</c>) and weighted (<c>f1_weighted</c>), and for two classes <c>ap</c> (average precision of the predicted
/// labels, as MTEB computes it); the scores are their means over the experiments, with <c>scores_per_experiment</c>;
/// the main score is <c>accuracy</c>. Embeddings are not normalised (e5's choice for this type). The shuffle uses .NET's
/// seeded <see cref="Random"/> (MTEB: numpy's global generator), so a seed draws other samples than MTEB's.
/// </summary>
public static class ClassificationEvaluator
{
    public static SortedDictionary<string, object> Evaluate(IReadOnlyList<MtebRow> train, IReadOnlyList<MtebRow> test, ITextEncoder encoder, MtebTask task, MtebOptions options)
    {
        options.Validate();
        var trainLabels = train.Select(r => r.Label("label")).ToList();
        var testLabels = test.Select(r => r.Label("label")).ToList();
        var samples = Samples(trainLabels, options);
        var needed = samples.SelectMany(s => s).Distinct().Order().ToList();
        var embedded = encoder.Encode(needed.Select(i => train[i].Text("text")).ToList(), task.Instruction, task.Normalize);
        var trainEmbedding = needed.Select((row, k) => (row, k)).ToDictionary(p => p.row, p => embedded[p.k]);
        var testEmbedding = encoder.Encode(test.Select(r => r.Text("text")).ToList(), task.Instruction, task.Normalize);

        var experiments = new List<SortedDictionary<string, double>>();
        foreach (var sample in samples)
        {
            var model = LogisticRegression.Fit(sample.Select(i => trainEmbedding[i]).ToList(), sample.Select(i => trainLabels[i]).ToList());
            var predicted = model.Predict(testEmbedding);
            var scores = new SortedDictionary<string, double>(StringComparer.Ordinal)
            {
                ["accuracy"] = LabelScores.Accuracy(testLabels, predicted),
                ["f1"] = LabelScores.Averaged(testLabels, predicted, weighted: false).F1,
                ["f1_weighted"] = LabelScores.Averaged(testLabels, predicted, weighted: true).F1,
            };
            if (model.Classes.Count == 2)
            {
                string positive = model.Classes[1];
                scores["ap"] = AveragePrecision.Score(testLabels.Select(l => l == positive).ToList(), predicted.Select(p => p == positive ? 1.0 : 0.0).ToList());
            }
            experiments.Add(scores);
        }
        var result = new SortedDictionary<string, object>(StringComparer.Ordinal);
        foreach (var key in experiments[0].Keys) result[key] = experiments.Average(e => e[key]);
        result["scores_per_experiment"] = experiments;
        result["main_score"] = result["accuracy"];
        return result;
    }

    /// <summary>
    /// The training rows of each experiment: MTEB's <c>_undersample_data</c>, the index array shuffled in place each time
    /// (Fisher–Yates, one seeded generator for all experiments), then up to n rows per label in shuffled order.
    /// </summary>
    public static List<List<int>> Samples(IReadOnlyList<string> labels, MtebOptions options)
    {
        var random = new Random(options.Seed);
        var indices = Enumerable.Range(0, labels.Count).ToArray();
        var experiments = new List<List<int>>();
        for (int e = 0; e < options.Experiments; e++)
        {
            for (int i = indices.Length - 1; i > 0; i--)
            {
                int j = random.Next(i + 1);
                (indices[i], indices[j]) = (indices[j], indices[i]);
            }
            var taken = new Dictionary<string, int>(StringComparer.Ordinal);
            var sample = new List<int>();
            foreach (var i in indices)
            {
                int count = taken.GetValueOrDefault(labels[i]);
                if (count >= options.SamplesPerLabel) continue;
                taken[labels[i]] = count + 1;
                sample.Add(i);
            }
            experiments.Add(sample);
        }
        return experiments;
    }
}
