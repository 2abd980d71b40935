using System.Text.Json;

namespace Trainer.Tests.Cli;

/// <summary>The golden cases as embed/tokenize input lines: <c>{"id": i, "text", "instruction"?}</c>.</summary>
public static class TinyLines
{
    public static string[] Of(IReadOnlyList<Golden.Case> cases) => cases.Select((c, i) => JsonSerializer.Serialize(c.Instruction is null
        ? new Dictionary<string, object> { ["id"] = i, ["text"] = c.Text }
        : new Dictionary<string, object> { ["id"] = i, ["text"] = c.Text, ["instruction"] = c.Instruction })).ToArray();
}
