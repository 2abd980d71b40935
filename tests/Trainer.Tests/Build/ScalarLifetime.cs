using System.Reflection.Emit;

namespace Trainer.Tests.Build;

/// <summary>
/// Finds the TorchSharp <c>Scalar</c>s that nothing holds while libtorch reads them (docs/torchsharp-scalars.md says
/// why that matters). A Scalar is made by any call that returns one: an implicit conversion (<c>x * 0.5</c>),
/// <c>ToScalar()</c>, or TorchSharp's own helpers. It is held when the next instruction stores it in a local that the
/// method disposes (C#'s <c>using var half = 0.5.ToScalar();</c>), or returns it to a caller that must do the same.
/// Anything else (an argument, a field, a delegate) leaves it to the finalizer.
/// </summary>
public static class ScalarLifetime
{
    public const string ScalarType = "TorchSharp.Scalar";

    /// <summary>One Scalar made and not held: the call that made it.</summary>
    public sealed record Unheld(IlMethods.Callee MadeBy)
    {
        public bool Implicit => MadeBy.Type == ScalarType && MadeBy.Name == "op_Implicit";
    }

    /// <summary>The Scalars a method makes and does not hold, in order.</summary>
    public static List<Unheld> UnheldIn(IlMethods.Method method)
    {
        var body = method.Body;
        var disposed = new HashSet<int>();
        for (int k = 0; k + 1 < body.Count; k++)
        {
            if (body[k].Local >= 0 && IsLoad(body[k].OpCode) && body[k + 1].Callee is { Name: "Dispose" } dispose
                && dispose.Type is "System.IDisposable" or ScalarType)
                disposed.Add(body[k].Local);
        }
        var unheld = new List<Unheld>();
        for (int k = 0; k < body.Count; k++)
        {
            if (body[k].Callee is not { } callee || !MakesScalar(body[k].OpCode, callee)) continue;
            var next = k + 1 < body.Count ? body[k + 1] : null;
            bool held = next is not null && (next.OpCode == OpCodes.Ret || (IsStore(next.OpCode) && disposed.Contains(next.Local)));
            if (!held) unheld.Add(new Unheld(callee));
        }
        return unheld;
    }

    /// <summary>
    /// The methods of TorchSharp that make a Scalar nothing holds, themselves or through the TorchSharp methods they
    /// call (not through virtual dispatch, which the caller's receiver decides): key → why, e.g.
    /// "Tensor.add(Tensor) → Scalar.op_Implicit(int)".
    /// </summary>
    public static Dictionary<string, string> UnsafeMethods(IlMethods.Assembly torchSharp)
    {
        var why = new Dictionary<string, string>();
        var callers = new Dictionary<string, List<IlMethods.Method>>();
        var pending = new Queue<IlMethods.Method>();
        foreach (var method in torchSharp.Methods)
        {
            foreach (var callee in method.Body.Select(i => i.Callee).OfType<IlMethods.Callee>().DistinctBy(c => c.Key))
            {
                if (!callers.TryGetValue(callee.Key, out var list)) callers[callee.Key] = list = [];
                list.Add(method);
            }
            var unheld = UnheldIn(method);
            if (unheld.Count == 0 || why.ContainsKey(method.Key)) continue;
            why[method.Key] = Short(unheld[0].MadeBy.Key);
            pending.Enqueue(method);
        }
        while (pending.TryDequeue(out var method))
        {
            foreach (var caller in callers.GetValueOrDefault(method.Key) ?? [])
            {
                if (why.ContainsKey(caller.Key)) continue;
                why[caller.Key] = $"{Short(method.Key)} → {why[method.Key]}";
                pending.Enqueue(caller);
            }
        }
        return why;
    }

    /// <summary>
    /// The virtual methods an object of <paramref name="type"/> runs that are unsafe: its own and its base types'
    /// (within TorchSharp), each the most derived one. A type made with <c>new</c> brings these along: for example
    /// an optimizer whose <c>step</c>, called through the base class, makes Scalars.
    /// </summary>
    public static IEnumerable<string> UnsafeVirtuals(IlMethods.Assembly torchSharp, IReadOnlyDictionary<string, string> unsafeMethods, string type)
    {
        var seen = new HashSet<string>();
        for (string? t = type; t is not null; t = torchSharp.BaseTypes.GetValueOrDefault(t))
        {
            foreach (var method in torchSharp.Methods.Where(m => m.DeclaringType == t && m.IsVirtual))
            {
                var slot = method.Key[(t.Length + 1)..];
                if (seen.Add(slot) && unsafeMethods.ContainsKey(method.Key)) yield return method.Key;
            }
        }
    }

    /// <summary>"Tensor.add(Tensor)" for "TorchSharp.torch+Tensor.add(TorchSharp.torch+Tensor)".</summary>
    public static string Short(string key) => key
        .Replace("TorchSharp.torch+", "", StringComparison.Ordinal)
        .Replace("TorchSharp.Modules.", "", StringComparison.Ordinal)
        .Replace("TorchSharp.", "", StringComparison.Ordinal)
        .Replace("System.", "", StringComparison.Ordinal)
        .Replace('+', '.');

    private static bool MakesScalar(OpCode op, IlMethods.Callee callee) =>
        op == OpCodes.Newobj ? callee.Type == ScalarType : callee.ReturnType == ScalarType;

    private static bool IsLoad(OpCode op) =>
        op == OpCodes.Ldloc_0 || op == OpCodes.Ldloc_1 || op == OpCodes.Ldloc_2 || op == OpCodes.Ldloc_3 || op == OpCodes.Ldloc_S || op == OpCodes.Ldloc;

    private static bool IsStore(OpCode op) =>
        op == OpCodes.Stloc_0 || op == OpCodes.Stloc_1 || op == OpCodes.Stloc_2 || op == OpCodes.Stloc_3 || op == OpCodes.Stloc_S || op == OpCodes.Stloc;
}
