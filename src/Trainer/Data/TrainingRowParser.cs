namespace Trainer.Data;

/// <summary>
/// Validates one row given as column → value (string, list of strings, or anything else) and builds the example.
/// Columns: <c>query</c>; <c>positive</c> or <c>pos</c> (list); optional <c>negative</c> or <c>neg</c> (list);
/// optional <c>instruction</c>. Strings must hold more than whitespace. Errors name the row (<c>file:line</c> or
/// <c>file row N</c>) and the column.
/// </summary>
public static class TrainingRowParser
{
    /// <param name="defaultInstruction">The instruction of a row without one (its source's, else data.default_instruction).</param>
    /// <param name="symmetric">The row's documents take its instruction too (a source with <c>symmetric: true</c>).</param>
    public static TrainingExample Parse(IReadOnlyDictionary<string, object?> row, string where, string? defaultInstruction, bool symmetric = false)
    {
        string query = RequiredString(row, "query", where);
        var positives = StringOrList(row, "positive", "pos", where, required: true);
        var negatives = StringOrList(row, "negative", "neg", where, required: false);
        string? instruction = OptionalString(row, "instruction", where) ?? defaultInstruction;
        return new TrainingExample(query, positives, negatives, instruction, where, symmetric);
    }

    private static string RequiredString(IReadOnlyDictionary<string, object?> row, string column, string where) =>
        OptionalString(row, column, where) ?? throw new InvalidDataException($"{where}: missing column \"{column}\".");

    private static string? OptionalString(IReadOnlyDictionary<string, object?> row, string column, string where)
    {
        if (!row.TryGetValue(column, out var value) || value is null) return null;
        if (value is not string text) throw new InvalidDataException($"{where}: column \"{column}\" must be a string, got {Describe(value)}.");
        if (text.Length == 0) throw new InvalidDataException($"{where}: column \"{column}\" is an empty string.");
        if (string.IsNullOrWhiteSpace(text)) throw new InvalidDataException($"{where}: column \"{column}\" is whitespace only.");
        return text;
    }

    private static IReadOnlyList<string> StringOrList(IReadOnlyDictionary<string, object?> row, string single, string list, string where, bool required)
    {
        bool hasSingle = row.TryGetValue(single, out var one) && one is not null;
        bool hasList = row.TryGetValue(list, out var many) && many is not null;
        if (hasSingle && hasList) throw new InvalidDataException($"{where}: give either \"{single}\" or \"{list}\", not both.");
        if (hasSingle) return [OptionalString(row, single, where)!];
        if (!hasList)
        {
            if (required) throw new InvalidDataException($"{where}: missing column \"{single}\" (or a \"{list}\" list).");
            return [];
        }
        if (many is not System.Collections.IEnumerable items || many is string)
            throw new InvalidDataException($"{where}: column \"{list}\" must be a list of strings, got {Describe(many!)}.");
        var values = new List<string>();
        foreach (var item in items)
        {
            if (item is not string text) throw new InvalidDataException($"{where}: column \"{list}\" must hold strings, found {Describe(item)}.");
            if (text.Length == 0) throw new InvalidDataException($"{where}: column \"{list}\" holds an empty string.");
            if (string.IsNullOrWhiteSpace(text)) throw new InvalidDataException($"{where}: column \"{list}\" holds a whitespace-only string.");
            values.Add(text);
        }
        if (required && values.Count == 0) throw new InvalidDataException($"{where}: column \"{list}\" is an empty list.");
        return values;
    }

    private static string Describe(object? value) => value switch
    {
        null => "null",
        string => "a string",
        bool => "a boolean",
        System.Collections.IEnumerable => "a list",
        _ when value.GetType().IsPrimitive || value is decimal => "a number",
        _ => value.GetType().Name,
    };
}
