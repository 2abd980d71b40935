using System.Reflection.Emit;
namespace Trainer.Tests.Build;

/// <summary>
/// TorchSharp 0.107 turns a number in a tensor expression (<c>x * 0.5</c>, <c>x.pow(2)</c>, and even <c>a + b</c>,
/// whose hidden alpha is 1) into a native Scalar that only its finalizer frees, and nothing keeps it alive while
/// libtorch reads it: a garbage collection on another thread at that moment frees it mid-call. Trainer.Core therefore
/// holds every Scalar in a <c>using var</c> local and calls only TorchSharp overloads that take those Scalars
/// (docs/torchsharp-scalars.md). These tests read Trainer.Core's IL, and TorchSharp's, to keep it that way.
/// </summary>
public class ScalarLifetimeTests
{
    /// <summary>
    /// TorchSharp methods Trainer.Core still calls although they make Scalars that nothing holds, because TorchSharp
    /// offers no overload that takes ours; docs/torchsharp-scalars.md lists the same, with what limits the risk.
    /// </summary>
    private static readonly Dictionary<string, string> ResidualRisks = new()
    {
    };

    private static readonly Lazy<IlMethods.Assembly> Core = new(() => IlMethods.Read(typeof(Trainer.Models.DTypes).Assembly.Location));
    private static readonly Lazy<IlMethods.Assembly> TorchSharpIl = new(() => IlMethods.Read(typeof(TorchSharp.Scalar).Assembly.Location));
    private static readonly Lazy<Dictionary<string, string>> Unsafe = new(() => ScalarLifetime.UnsafeMethods(TorchSharpIl.Value));

    [Fact]
    public void Every_scalar_trainer_core_makes_is_held_in_a_using_local()
    {
        var found = UnheldScalars(Core.Value.Methods);
        Assert.True(found.Count == 0,
            "Trainer.Core makes TorchSharp Scalars that nothing holds while libtorch reads them, so a garbage collection on " +
            "another thread can free them mid-call (docs/torchsharp-scalars.md). Hold each in a `using var` local of the method " +
            "that uses it, before the expression: `using var half = 0.5.ToScalar(); var y = x * half;` " +
            "(not in an iterator or async method, where locals become fields: move the tensor code into a plain method).\n" +
            string.Join("\n", found));
    }

    [Fact]
    public void Trainer_core_calls_no_torchsharp_method_that_makes_unheld_scalars_beyond_the_listed_residual_risks()
    {
        var calls = UnsafeCalls(Core.Value.Methods);
        var found = calls.Where(c => !ResidualRisks.ContainsKey(c.Callee)).Select(c => c.Line).Distinct().ToList();
        Assert.True(found.Count == 0,
            "Trainer.Core calls TorchSharp methods that make Scalars inside and leave them to the finalizer, so a garbage " +
            "collection on another thread can free them mid-call (docs/torchsharp-scalars.md). Call the overload that takes " +
            "Scalars, held in `using var` locals: `x * 0.5` → `x * half`, `a + b` → `a.add(b, alpha: one)` with " +
            "`using var one = 1.ToScalar();`, `arange(n)` → `arange(zero, n, one)`. Only if TorchSharp has no such overload, " +
            "add the method to ResidualRisks with the reason, and to the doc.\n" + string.Join("\n", found));
        var stale = ResidualRisks.Keys.Except(calls.Select(c => c.Callee)).ToList();
        Assert.True(stale.Count == 0, $"ResidualRisks lists methods Trainer.Core no longer calls; remove them here and in docs/torchsharp-scalars.md: {string.Join(", ", stale)}");
    }

    [Fact]
    public void The_checks_find_unheld_scalars_also_in_lambdas_local_functions_iterators_and_async_methods()
    {
        const string Samples = "Trainer.Tests.Build.ScalarLifetimeSamples.";
        var methods = IlMethods.Read(typeof(ScalarLifetimeSamples).Assembly.Location).Methods.Where(m => m.Readable.StartsWith(Samples, StringComparison.Ordinal)).ToList();

        var unheld = UnheldScalars(methods).Select(line => line.Replace(Samples, "", StringComparison.Ordinal)).ToList();
        Assert.Equal(
            [
                "Async (iterator or async): Scalar.op_Implicit(int), an implicit conversion",
                "Implicit: Scalar.op_Implicit(int), an implicit conversion",
                "Inline: ScalarExtensionMethods.ToScalar(int)",
                "Iterator (iterator or async): Scalar.op_Implicit(int), an implicit conversion",
                "Lambda (lambda): Scalar.op_Implicit(int), an implicit conversion",
                "LocalFunction (local function Square): Scalar.op_Implicit(int), an implicit conversion",
                "NotDisposed: ScalarExtensionMethods.ToScalar(int)",
            ],
            unheld);

        var calls = UnsafeCalls(methods).Select(c => c.Line.Replace(Samples, "", StringComparison.Ordinal)).ToList();
        Assert.Equal(
            [
                "Operators: Tensor.op_Addition(Tensor, Tensor), which makes one in Tensor.add(Tensor) → Scalar.op_Implicit(int)",
                "Operators: Tensor.op_Multiply(Tensor, double), which makes one in Scalar.op_Implicit(double)",
            ],
            calls);
    }

    [Fact]
    public void The_torchsharp_scan_flags_the_number_overloads_and_not_the_scalar_ones()
    {
        const string Tensor = "TorchSharp.torch+Tensor";
        const string Scalar = "TorchSharp.Scalar";
        var unsafeMethods = Unsafe.Value;
        // a + b is a.add(b, 1); x.pow(2) converts at the call site, inside TorchSharp for x * 0.5; arange(n) is arange(0, n, 1)
        Assert.Contains($"{Tensor}.op_Addition({Tensor}, {Tensor})", unsafeMethods.Keys);
        Assert.Contains($"{Tensor}.op_Addition({Tensor}, {Scalar})", unsafeMethods.Keys);
        Assert.Contains($"{Tensor}.op_Multiply({Tensor}, double)", unsafeMethods.Keys);
        Assert.Contains($"TorchSharp.torch.arange({Scalar}, TorchSharp.torch+ScalarType?, TorchSharp.torch+Device, bool)", unsafeMethods.Keys);
        Assert.Contains("TorchSharp.Modules.AdamW.step(System.Func`1<TorchSharp.torch+Tensor>)", unsafeMethods.Keys);
        // the overloads that take every Scalar from the caller make none
        Assert.DoesNotContain($"{Tensor}.add({Tensor}, {Scalar})", unsafeMethods.Keys);
        Assert.DoesNotContain($"{Tensor}.op_Multiply({Tensor}, {Scalar})", unsafeMethods.Keys);
        Assert.DoesNotContain($"{Tensor}.pow({Scalar})", unsafeMethods.Keys);
        Assert.DoesNotContain($"TorchSharp.torch.arange({Scalar}, {Scalar}, {Scalar}, TorchSharp.torch+ScalarType?, TorchSharp.torch+Device, bool)", unsafeMethods.Keys);
    }

    /// <summary>"Type.Method: what made it" for each Scalar made and not held, sorted.</summary>
    private static List<string> UnheldScalars(IEnumerable<IlMethods.Method> methods) =>
        [.. methods
            .SelectMany(m => ScalarLifetime.UnheldIn(m).Select(u =>
                $"{m.Readable}: {ScalarLifetime.Short(u.MadeBy.Key)}{(u.Implicit ? ", an implicit conversion" : "")}"))
            .Distinct()
            .Order(StringComparer.Ordinal)];

    /// <summary>
    /// Each call from <paramref name="methods"/> to a TorchSharp method that makes unheld Scalars, and each TorchSharp
    /// type they create whose virtual methods (an optimizer's step) do: the callee's key and a readable line, sorted.
    /// </summary>
    private static List<(string Callee, string Line)> UnsafeCalls(IEnumerable<IlMethods.Method> methods)
    {
        var calls = new List<(string, string)>();
        foreach (var method in methods)
        {
            foreach (var instruction in method.Body.Where(i => i.Callee is not null).DistinctBy(i => (i.OpCode, i.Callee!.Key)))
            {
                var callee = instruction.Callee!;
                if (Unsafe.Value.TryGetValue(callee.Key, out var why))
                    calls.Add((callee.Key, $"{method.Readable}: {ScalarLifetime.Short(callee.Key)}, which makes one in {why}"));
                if (instruction.OpCode == OpCodes.Newobj) // an object made here runs its virtual methods wherever it goes
                {
                    foreach (var virtualMethod in UnsafeVirtualsOf(callee.Type))
                        calls.Add((virtualMethod, $"{method.Readable}: new {ScalarLifetime.Short(callee.Type)}, whose {ScalarLifetime.Short(virtualMethod)} makes one in {Unsafe.Value[virtualMethod]}"));
                }
            }
        }
        return [.. calls.Distinct().OrderBy(c => c.Item2, StringComparer.Ordinal)];
    }

    /// <summary>
    /// The unsafe TorchSharp virtual methods an object of <paramref name="type"/> runs: for a TorchSharp type its own
    /// (<see cref="ScalarLifetime.UnsafeVirtuals"/>); for a Trainer.Core type deriving from one, those its Core classes
    /// do not override (an override is Core code, checked like any other).
    /// </summary>
    private static IEnumerable<string> UnsafeVirtualsOf(string type)
    {
        var overridden = new HashSet<string>();
        string? t = type;
        for (; t is not null && !t.StartsWith("TorchSharp.", StringComparison.Ordinal); t = Core.Value.BaseTypes.GetValueOrDefault(t))
        {
            string declaring = t;
            foreach (var method in Core.Value.Methods.Where(m => m.DeclaringType == declaring && m.IsVirtual))
                overridden.Add(method.Key[(declaring.Length + 1)..]);
        }
        if (t is null) return [];
        return ScalarLifetime.UnsafeVirtuals(TorchSharpIl.Value, Unsafe.Value, t).Where(key => !overridden.Contains(key[(key.LastIndexOf('.', key.IndexOf('(', StringComparison.Ordinal)) + 1)..]));
    }
}
