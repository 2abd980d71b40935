namespace Trainer.Evaluation.Mteb;

/// <summary>
/// A task and the data it is evaluated on, read before any model loads (so a bad file stops the run at once): a
/// retrieval task's BEIR folder (<see cref="BeirDataset"/>), any other type's MTEB hub files (<see cref="MtebData"/>),
/// and for classification also the split its logistic regression trains on.
/// </summary>
public sealed class MtebTaskData
{
    public required MtebTask Task { get; init; }
    public required string Folder { get; init; }
    public required string Split { get; init; }
    public BeirDataset? Beir { get; private init; }
    public MtebData? Data { get; private init; }
    public MtebData? Train { get; private init; }

    public static MtebTaskData Load(MtebTask task, string folder, string split, MtebOptions options)
    {
        if (task.Type == MtebTaskType.Retrieval)
            return new MtebTaskData { Task = task, Folder = folder, Split = split, Beir = BeirDataset.Load(folder, split) };
        var data = MtebData.Load(folder, split);
        CheckColumns(task.Type, data);
        MtebData? train = null;
        if (task.Type == MtebTaskType.Classification)
        {
            if (split == options.TrainSplit)
                throw new ArgumentException($"classification trains on split \"{options.TrainSplit}\" and cannot be evaluated on it; give another --split (e.g. test).");
            train = MtebData.Load(folder, options.TrainSplit);
            CheckColumns(task.Type, train);
        }
        return new MtebTaskData { Task = task, Folder = folder, Split = split, Data = data, Train = train };
    }

    /// <summary>Reads every column the type's evaluator will read, so a bad value fails now, before any model loads.</summary>
    private static void CheckColumns(MtebTaskType type, MtebData data)
    {
        foreach (var row in data.Subsets.SelectMany(s => s.Rows))
        {
            switch (type)
            {
                case MtebTaskType.Sts:
                    (_, _, _) = (row.Text("sentence1"), row.Text("sentence2"), row.Number("score"));
                    break;
                case MtebTaskType.PairClassification:
                    string label = row.Has("labels") ? "labels" : "label";
                    if (row.IsList("sentence1")) (_, _, _) = (row.Texts("sentence1"), row.Texts("sentence2"), row.Numbers(label));
                    else (_, _, _) = (row.Text("sentence1"), row.Text("sentence2"), row.Number(label));
                    break;
                case MtebTaskType.Reranking:
                    _ = row.IsList("query") ? row.Texts("query") : [row.Text("query")];
                    (_, _) = (row.Texts("positive"), row.Texts("negative"));
                    break;
                case MtebTaskType.Classification:
                    (_, _) = (row.Text("text"), row.Label("label"));
                    break;
                case MtebTaskType.Clustering:
                    if (row.IsList("sentences")) (_, _) = (row.Texts("sentences"), row.Labels("labels"));
                    else (_, _) = (row.Text("sentences"), row.Label("labels"));
                    break;
                case MtebTaskType.Summarization:
                    (_, _, _) = (row.Texts("human_summaries"), row.Texts("machine_summaries"), row.Numbers("relevance"));
                    break;
                case MtebTaskType.BitextMining:
                    (_, _) = (row.Text("sentence1"), row.Text("sentence2"));
                    break;
            }
        }
    }

    /// <summary>The files read, for the dataset revision in the result file.</summary>
    public IEnumerable<string> Files() =>
        Beir is not null ? BeirDataset.Files(Folder, Split).Select(f => f.Path)
            : Data!.Files().Concat(Train?.Files() ?? []);
}
