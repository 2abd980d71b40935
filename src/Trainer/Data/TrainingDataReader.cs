using System.Text.Json;
using Parquet.Serialization;
using Trainer.Checkpointing;
using Trainer.Config;

namespace Trainer.Data;

/// <summary>
/// Reads training rows from JSONL and Parquet files, in file order, failing fast or skipping bad rows. A pipe, a FIFO
/// or <c>-</c> (standard input) is read once, as JSONL.
/// </summary>
public static class TrainingDataReader
{
    /// <param name="SourceSizes">The valid rows of each source, in order: source s holds the next SourceSizes[s] examples.</param>
    public sealed record Result(List<TrainingExample> Examples, int Skipped, List<string> SkipReasons, IReadOnlyList<int> SourceSizes);

    public static Result Read(IEnumerable<string> files, string? defaultInstruction, bool skipInvalid) =>
        Read(files.Select(f => new TrainSource(f)), defaultInstruction, skipInvalid);

    /// <summary>Every source's rows, source after source; a row without an instruction takes its source's, else <paramref name="defaultInstruction"/>.</summary>
    public static Result Read(IEnumerable<TrainSource> sources, string? defaultInstruction, bool skipInvalid)
    {
        var examples = new List<TrainingExample>();
        var reasons = new List<string>();
        var sizes = new List<int>();
        foreach (var source in sources)
        {
            var file = source.Path;
            int before = examples.Count;
            bool streamed = file == Utf8Lines.StandardInput || FileStat.TypeOf(file, followLinks: true) is FileType.Fifo or FileType.CharacterDevice;
            if (!streamed && !File.Exists(file)) throw new FileNotFoundException($"Training file not found: {file}", file);
            var rows = streamed ? JsonlRows(file) : Path.GetExtension(file).ToLowerInvariant() switch
            {
                ".jsonl" or ".json" => JsonlRows(file),
                ".parquet" => ParquetRows(file),
                var other => throw new NotSupportedException($"{file}: unsupported training file type '{other}'; use .jsonl or .parquet."),
            };
            foreach (var (where, parse) in rows)
            {
                try
                {
                    examples.Add(TrainingRowParser.Parse(parse(), where, source.Instruction ?? defaultInstruction, source.Symmetric));
                }
                catch (InvalidDataException e) when (skipInvalid)
                {
                    reasons.Add(e.Message);
                }
            }
            sizes.Add(examples.Count - before);
        }
        return new Result(examples, reasons.Count, reasons, sizes);
    }

    /// <summary>
    /// One entry per non-blank line. A line that is not UTF-8, not a JSON object or repeats a key fails when its row
    /// is parsed, so <c>skip_invalid</c> skips it like any other bad row.
    /// </summary>
    internal static IEnumerable<(string Where, Func<IReadOnlyDictionary<string, object?>> Row)> JsonlRows(string file)
    {
        foreach (var line in Utf8Lines.Read(file))
        {
            if (line.Text is { } text && string.IsNullOrWhiteSpace(text)) continue;
            string where = $"{file}:{line.Number}";
            yield return (where, () => ParseJsonObject(line.TextOrThrow(where), where));
        }
    }

    private static Dictionary<string, object?> ParseJsonObject(string line, string where) =>
        JsonObjectLine.Parse(line, where).ToDictionary(field => field.Key, field => ToValue(field.Value), StringComparer.Ordinal);

    private static object? ToValue(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.String => e.GetString(),
        JsonValueKind.Null => null,
        JsonValueKind.Array => e.EnumerateArray().Select(ToValue).ToList(),
        JsonValueKind.True or JsonValueKind.False => e.GetBoolean(),
        JsonValueKind.Number => e.GetDouble(),
        _ => e.GetRawText(),
    };

    /// <summary>Parquet.Net hands strings inside lists over as ReadOnlyMemory&lt;char&gt;; make them strings.</summary>
    private static object? Normalize(object? value) => value switch
    {
        ReadOnlyMemory<char> chars => chars.ToString(),
        string text => text,
        System.Collections.IEnumerable items => items.Cast<object?>().Select(Normalize).ToList(),
        _ => value,
    };

    internal static IEnumerable<(string Where, Func<IReadOnlyDictionary<string, object?>> Row)> ParquetRows(string file)
    {
        List<Dictionary<string, object>> rows;
        using (var stream = File.OpenRead(file))
        {
            try
            {
                // Parquet.Net 6.1 can spin forever on some damaged footers: bound the read (generously, by file size).
                var read = Task.Run(() => ParquetSerializer.DeserializeUntypedAsync(stream));
                var limit = TimeSpan.FromSeconds(60 + stream.Length / 100_000);
                if (!read.Wait(limit))
                    throw new InvalidDataException($"{file}: not a readable Parquet file (reading did not finish within {limit.TotalSeconds:F0} s; the file is probably damaged)");
                rows = read.Result.Data.ToList();
            }
            catch (AggregateException e) when (e.InnerException is { } inner and not OutOfMemoryException)
            {
                throw new InvalidDataException($"{file}: not a readable Parquet file ({inner.GetType().Name}: {inner.Message})", inner);
            }
            catch (InvalidDataException e) when (e.Message.StartsWith(file, StringComparison.Ordinal))
            {
                throw;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // A damaged file fails anywhere in Parquet.Net (Thrift, decompression, index arithmetic): name the file.
                throw new InvalidDataException($"{file}: not a readable Parquet file ({e.GetType().Name}: {e.Message})", e);
            }
        }
        for (int i = 0; i < rows.Count; i++)
        {
            var row = rows[i];
            yield return ($"{file} row {i + 1}", () => row.ToDictionary(kv => kv.Key, kv => Normalize(kv.Value)));
        }
    }
}
