using System.Globalization;

namespace Trainer.Evaluation.Mteb;

/// <summary>
/// One row of an MTEB hub file, with typed reads of its columns. A missing or mistyped value throws
/// <see cref="InvalidDataException"/> naming the file, the row (a JSONL line number or a Parquet row number) and the column.
/// </summary>
public sealed class MtebRow(string where, IReadOnlyDictionary<string, object?> values)
{
    /// <summary>"FILE:LINE" (JSONL) or "FILE row N" (Parquet).</summary>
    public string Where { get; } = where;

    public bool Has(string column) => values.TryGetValue(column, out var value) && value is not null;

    public string Text(string column) => Get(column) switch
    {
        string text => text,
        var other => throw Bad(column, "a string", other),
    };

    public IReadOnlyList<string> Texts(string column) => Get(column) switch
    {
        System.Collections.IList items when items.Cast<object?>().All(i => i is string) => items.Cast<string>().ToList(),
        var other => throw Bad(column, "a list of strings", other),
    };

    public double Number(string column) => AsNumber(Get(column)) ?? throw Bad(column, "a number", Get(column));

    public IReadOnlyList<double> Numbers(string column) => Get(column) switch
    {
        System.Collections.IList items when items.Cast<object?>().All(i => AsNumber(i) is not null) => items.Cast<object?>().Select(i => AsNumber(i)!.Value).ToList(),
        var other => throw Bad(column, "a list of numbers", other),
    };

    /// <summary>A class label: an integer or a string, as text (MTEB's labels are integers in most sets, strings in some).</summary>
    public string Label(string column) => Get(column) switch
    {
        string text => text,
        var value when AsNumber(value) is { } number && number == Math.Floor(number) => number.ToString(CultureInfo.InvariantCulture),
        var other => throw Bad(column, "an integer or string label", other),
    };

    public IReadOnlyList<string> Labels(string column) => Get(column) switch
    {
        System.Collections.IList items => items.Cast<object?>().Select(i => i is string s ? s
            : AsNumber(i) is { } n && n == Math.Floor(n) ? n.ToString(CultureInfo.InvariantCulture)
            : throw Bad(column, "a list of integer or string labels", i)).ToList(),
        var other => throw Bad(column, "a list of labels", other),
    };

    /// <summary>Whether the column holds a list (MTEB's older files put a whole set in one row).</summary>
    public bool IsList(string column) => Get(column) is System.Collections.IList;

    private object Get(string column) =>
        values.TryGetValue(column, out var value) && value is not null
            ? value
            : throw new InvalidDataException($"{Where}, column \"{column}\": missing (the row has {string.Join(", ", values.Keys.Select(k => $"\"{k}\""))}).");

    private static double? AsNumber(object? value) => value switch
    {
        double d => d,
        float f => f,
        long l => l,
        int i => i,
        short s => s,
        byte b => b,
        decimal m => (double)m,
        _ => null,
    };

    private InvalidDataException Bad(string column, string expected, object? found) =>
        new($"{Where}, column \"{column}\": expected {expected}, found {Describe(found)}.");

    private static string Describe(object? value) => value switch
    {
        null => "null",
        string s => $"the string \"{(s.Length > 40 ? s[..40] + "…" : s)}\"",
        System.Collections.IList list => $"a list of {list.Count}",
        _ => $"{value.GetType().Name} {Convert.ToString(value, CultureInfo.InvariantCulture)}",
    };
}
