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
        MtebData? train = null;
        if (task.Type == MtebTaskType.Classification)
        {
            if (split == options.TrainSplit)
                throw new ArgumentException($"classification trains on split \"{options.TrainSplit}\" and cannot be evaluated on it; give another --split (e.g. test).");
            train = MtebData.Load(folder, options.TrainSplit);
        }
        return new MtebTaskData { Task = task, Folder = folder, Split = split, Data = data, Train = train };
    }

    /// <summary>The files read, for the dataset revision in the result file.</summary>
    public IEnumerable<string> Files() =>
        Beir is not null ? BeirDataset.Files(Folder, Split).Select(f => f.Path)
            : Data!.Files().Concat(Train?.Files() ?? []);
}
