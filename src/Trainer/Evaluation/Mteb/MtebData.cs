using Trainer.Data;

namespace Trainer.Evaluation.Mteb;

/// <summary>
/// One split of an MTEB dataset as the Hugging Face hub publishes it (<c>mteb/NAME</c>), read from a local folder;
/// nothing is downloaded. A folder holds a split as <c>data/SPLIT-*.parquet</c> (the hub's Parquet layout, shards in name
/// order) or <c>SPLIT.jsonl</c>; a folder without either whose sub-folders hold it is a multi-subset task (languages or
/// language pairs), one subset per sub-folder, named like it (MTEB's <c>hf_subset</c>); else the subset is "default".
/// </summary>
public sealed record MtebData(string Folder, string Split, IReadOnlyList<(string Subset, IReadOnlyList<MtebRow> Rows)> Subsets)
{
    public static MtebData Load(string folder, string split)
    {
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"--data {folder}: no such folder.");
        if (SplitFiles(folder, split) is { Count: > 0 } files) return new MtebData(folder, split, [("default", Read(files))]);
        var subsets = Directory.GetDirectories(folder).OrderBy(d => d, StringComparer.Ordinal)
            .Select(d => (Name: Path.GetFileName(d), Files: SplitFiles(d, split)))
            .Where(s => s.Files.Count > 0)
            .Select(s => (s.Name, Read(s.Files)))
            .ToList();
        if (subsets.Count == 0)
            throw new FileNotFoundException($"--data {folder} has no split \"{split}\": expected {Path.Combine(folder, "data", split + "-*.parquet")} or " +
                                            $"{Path.Combine(folder, split + ".jsonl")} (or sub-folders holding them, one per subset).");
        return new MtebData(folder, split, subsets);
    }

    /// <summary>The files of a split in a folder: its Parquet shards, else its JSONL file; empty when neither exists.</summary>
    public static IReadOnlyList<string> SplitFiles(string folder, string split)
    {
        var data = Path.Combine(folder, "data");
        if (Directory.Exists(data))
        {
            var shards = Directory.GetFiles(data, split + "-*.parquet").OrderBy(f => f, StringComparer.Ordinal).ToList();
            if (shards.Count > 0) return shards;
        }
        var jsonl = Path.Combine(folder, split + ".jsonl");
        return File.Exists(jsonl) ? [jsonl] : [];
    }

    /// <summary>Every file of the split in every subset (for the dataset revision written to the result file).</summary>
    public IEnumerable<string> Files() =>
        SplitFiles(Folder, Split) is { Count: > 0 } files ? files
            : Directory.GetDirectories(Folder).OrderBy(d => d, StringComparer.Ordinal).SelectMany(d => SplitFiles(d, Split));

    private static IReadOnlyList<MtebRow> Read(IReadOnlyList<string> files)
    {
        var rows = new List<MtebRow>();
        foreach (var file in files)
        {
            var source = file.EndsWith(".parquet", StringComparison.Ordinal) ? TrainingDataReader.ParquetRows(file) : TrainingDataReader.JsonlRows(file);
            foreach (var (where, row) in source) rows.Add(new MtebRow(where, row()));
        }
        if (rows.Count == 0) throw new InvalidDataException($"{string.Join(", ", files)}: no rows.");
        return rows;
    }
}
