using System.Collections.Immutable;
using System.Reflection;
using System.Reflection.Emit;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;

namespace Trainer.Tests.Build;

/// <summary>
/// The method bodies of an assembly, decoded from its IL with System.Reflection.Metadata (the assembly is read, not
/// loaded). Members are keyed "Type.Name(parameters)" with generic instantiations erased, so a call site and the
/// definition it calls have the same key; code the compiler moved into generated types (lambdas, local functions,
/// iterators, async state machines) is also named readably, after the method it was written in.
/// </summary>
public static class IlMethods
{
    /// <summary>One method with a body.</summary>
    /// <param name="Key">"Namespace.Type.Name(parameter types)", as call sites name it.</param>
    /// <param name="Readable">"Namespace.Type.Method", with "(lambda)", "(local function F)" or "(iterator or async)".</param>
    public sealed record Method(string Key, string Readable, string DeclaringType, bool IsVirtual, IReadOnlyList<Instruction> Body);

    /// <summary>One instruction: for locals, the local's index; for calls, the callee's key and return type.</summary>
    public sealed record Instruction(OpCode OpCode, int Local, Callee? Callee);

    public sealed record Callee(string Key, string Type, string Name, string ReturnType);

    /// <summary>The assembly's methods with a body, and each type's base type (erased names).</summary>
    public sealed record Assembly(IReadOnlyList<Method> Methods, IReadOnlyDictionary<string, string> BaseTypes);

    private static readonly Dictionary<short, OpCode> OpCodesByValue = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!)
        .ToDictionary(o => o.Value);

    private static readonly HashSet<OpCode> Calls = [OpCodes.Call, OpCodes.Callvirt, OpCodes.Newobj, OpCodes.Ldftn, OpCodes.Ldvirtftn];

    public static Assembly Read(string assemblyPath)
    {
        using var pe = new PEReader(File.OpenRead(assemblyPath));
        var md = pe.GetMetadataReader();
        var methods = new List<Method>();
        var baseTypes = new Dictionary<string, string>();
        foreach (var typeHandle in md.TypeDefinitions)
        {
            var type = md.GetTypeDefinition(typeHandle);
            var typeName = TypeName(md, typeHandle);
            if (!type.BaseType.IsNil) baseTypes[typeName] = Erase(TypeName(md, type.BaseType));
            foreach (var methodHandle in type.GetMethods())
            {
                var method = md.GetMethodDefinition(methodHandle);
                if (method.RelativeVirtualAddress == 0) continue; // abstract, extern or a P/Invoke: no body
                var il = pe.GetMethodBody(method.RelativeVirtualAddress).GetILBytes() ?? [];
                var (_, parameters) = Signature(md, method.Signature);
                methods.Add(new Method(
                    $"{typeName}.{md.GetString(method.Name)}{parameters}",
                    ReadableName(md, typeHandle, method),
                    typeName,
                    (method.Attributes & MethodAttributes.Virtual) != 0,
                    Decode(md, il)));
            }
        }
        return new Assembly(methods, baseTypes);
    }

    private static List<Instruction> Decode(MetadataReader md, byte[] il)
    {
        var body = new List<Instruction>();
        for (int i = 0; i < il.Length;)
        {
            short value = il[i] == 0xFE ? (short)(0xFE00 | il[i + 1]) : il[i];
            i += il[i] == 0xFE ? 2 : 1;
            var op = OpCodesByValue[value];
            int local = LocalIndex(op, il, i);
            var callee = Calls.Contains(op) ? Member(md, MetadataTokens.EntityHandle(BitConverter.ToInt32(il, i))) : null;
            body.Add(new Instruction(op, local, callee));
            i += OperandSize(op.OperandType, il, i);
        }
        return body;
    }

    /// <summary>The local an ldloc or stloc names, else -1.</summary>
    private static int LocalIndex(OpCode op, byte[] il, int at)
    {
        if (op == OpCodes.Ldloc_0 || op == OpCodes.Stloc_0) return 0;
        if (op == OpCodes.Ldloc_1 || op == OpCodes.Stloc_1) return 1;
        if (op == OpCodes.Ldloc_2 || op == OpCodes.Stloc_2) return 2;
        if (op == OpCodes.Ldloc_3 || op == OpCodes.Stloc_3) return 3;
        if (op == OpCodes.Ldloc_S || op == OpCodes.Stloc_S) return il[at];
        if (op == OpCodes.Ldloc || op == OpCodes.Stloc) return BitConverter.ToUInt16(il, at);
        return -1;
    }

    private static int OperandSize(OperandType operand, byte[] il, int at) => operand switch
    {
        OperandType.InlineNone => 0,
        OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
        OperandType.InlineVar => 2,
        OperandType.InlineI8 or OperandType.InlineR => 8,
        OperandType.InlineSwitch => 4 + 4 * BitConverter.ToInt32(il, at),
        _ => 4, // InlineBrTarget, InlineField, InlineI, InlineMethod, InlineSig, InlineString, InlineTok, InlineType, ShortInlineR
    };

    private static Callee Member(MetadataReader md, EntityHandle handle)
    {
        switch (handle.Kind)
        {
            case HandleKind.MethodDefinition:
                var definition = md.GetMethodDefinition((MethodDefinitionHandle)handle);
                return NewCallee(TypeName(md, definition.GetDeclaringType()), md.GetString(definition.Name), Signature(md, definition.Signature));
            case HandleKind.MemberReference:
                var reference = md.GetMemberReference((MemberReferenceHandle)handle);
                return NewCallee(Erase(TypeName(md, reference.Parent)), md.GetString(reference.Name), Signature(md, reference.Signature));
            case HandleKind.MethodSpecification:
                return Member(md, md.GetMethodSpecification((MethodSpecificationHandle)handle).Method);
            default:
                throw new InvalidDataException($"a call to a {handle.Kind}");
        }
    }

    private static Callee NewCallee(string type, string name, (string Return, string Parameters) signature) =>
        new($"{type}.{name}{signature.Parameters}", type, name, signature.Return);

    private static (string Return, string Parameters) Signature(MetadataReader md, BlobHandle blob)
    {
        var reader = md.GetBlobReader(blob);
        var signature = new SignatureDecoder<string, object?>(new TypeNames(), md, genericContext: null).DecodeMethodSignature(ref reader);
        return (signature.ReturnType, $"({string.Join(", ", signature.ParameterTypes)})");
    }

    /// <summary>"List`1" for "List`1&lt;int&gt;": a call on an instantiation calls the generic type's definition.</summary>
    private static string Erase(string typeName)
    {
        int bracket = typeName.IndexOf('<');
        return bracket < 0 ? typeName : typeName[..bracket];
    }

    private static string TypeName(MetadataReader md, EntityHandle handle) => handle.Kind switch
    {
        HandleKind.TypeDefinition => TypeName(md, (TypeDefinitionHandle)handle),
        HandleKind.TypeReference => TypeName(md, (TypeReferenceHandle)handle),
        HandleKind.TypeSpecification => md.GetTypeSpecification((TypeSpecificationHandle)handle).DecodeSignature(new TypeNames(), null),
        HandleKind.MethodDefinition => TypeName(md, md.GetMethodDefinition((MethodDefinitionHandle)handle).GetDeclaringType()),
        _ => throw new InvalidDataException($"a member of a {handle.Kind}"),
    };

    private static string TypeName(MetadataReader md, TypeDefinitionHandle handle)
    {
        var type = md.GetTypeDefinition(handle);
        var name = md.GetString(type.Name);
        var outer = type.GetDeclaringType();
        if (!outer.IsNil) return $"{TypeName(md, outer)}+{name}";
        var ns = md.GetString(type.Namespace);
        return ns.Length == 0 ? name : $"{ns}.{name}";
    }

    private static string TypeName(MetadataReader md, TypeReferenceHandle handle)
    {
        var type = md.GetTypeReference(handle);
        var name = md.GetString(type.Name);
        if (type.ResolutionScope.Kind == HandleKind.TypeReference) return $"{TypeName(md, (TypeReferenceHandle)type.ResolutionScope)}+{name}";
        var ns = md.GetString(type.Namespace);
        return ns.Length == 0 ? name : $"{ns}.{name}";
    }

    /// <summary>
    /// "Namespace.Type.Method" as the developer wrote it: a lambda, local function or state machine the compiler
    /// generated is named after its enclosing method, with what it is in brackets.
    /// </summary>
    private static string ReadableName(MetadataReader md, TypeDefinitionHandle typeHandle, MethodDefinition method)
    {
        var name = md.GetString(method.Name);
        string? what = null;
        var handle = typeHandle;
        while (true)
        {
            var type = md.GetTypeDefinition(handle);
            var typeName = md.GetString(type.Name);
            if (!typeName.StartsWith('<') || type.GetDeclaringType().IsNil) break;
            if (typeName.StartsWith("<>c", StringComparison.Ordinal)) what ??= ""; // <>c (lambdas), <>c__DisplayClass5_0 (captures)
            else // <Method>d__5: an iterator or async state machine, whose code is in MoveNext
            {
                name = Between(typeName);
                what ??= "iterator or async";
            }
            handle = type.GetDeclaringType();
        }
        if (name.StartsWith('<')) // <Method>b__5_0 is a lambda, <Method>g__Local|5_0 a local function
        {
            var enclosing = Between(name);
            var kind = name[(enclosing.Length + 2)..];
            what = kind.StartsWith("g__", StringComparison.Ordinal) ? $"local function {kind[3..].Split('|')[0]}" : "lambda";
            name = enclosing;
        }
        var suffix = string.IsNullOrEmpty(what) ? "" : $" ({what})";
        return $"{TypeName(md, handle)}.{name}{suffix}";
    }

    /// <summary>"Method" from "&lt;Method&gt;b__5_0"; brackets may nest ("&lt;&lt;Main&gt;$&gt;g__F|0_0").</summary>
    private static string Between(string text)
    {
        int depth = 0;
        for (int i = 0; i < text.Length; i++)
        {
            if (text[i] == '<') depth++;
            else if (text[i] == '>' && --depth == 0) return text[1..i];
        }
        return text;
    }

    /// <summary>Type names in signatures, the common ones as C# writes them.</summary>
    private sealed class TypeNames : ISignatureTypeProvider<string, object?>
    {
        public string GetPrimitiveType(PrimitiveTypeCode typeCode) => typeCode switch
        {
            PrimitiveTypeCode.Boolean => "bool",
            PrimitiveTypeCode.Byte => "byte",
            PrimitiveTypeCode.SByte => "sbyte",
            PrimitiveTypeCode.Int16 => "short",
            PrimitiveTypeCode.Int32 => "int",
            PrimitiveTypeCode.Int64 => "long",
            PrimitiveTypeCode.Single => "float",
            PrimitiveTypeCode.Double => "double",
            PrimitiveTypeCode.String => "string",
            PrimitiveTypeCode.Void => "void",
            PrimitiveTypeCode.Object => "object",
            _ => typeCode.ToString(),
        };

        public string GetTypeFromDefinition(MetadataReader reader, TypeDefinitionHandle handle, byte rawTypeKind) => TypeName(reader, handle);
        public string GetTypeFromReference(MetadataReader reader, TypeReferenceHandle handle, byte rawTypeKind) => TypeName(reader, handle);
        public string GetTypeFromSpecification(MetadataReader reader, object? genericContext, TypeSpecificationHandle handle, byte rawTypeKind) =>
            reader.GetTypeSpecification(handle).DecodeSignature(this, genericContext);
        public string GetSZArrayType(string elementType) => elementType + "[]";
        public string GetArrayType(string elementType, ArrayShape shape) => $"{elementType}[{new string(',', shape.Rank - 1)}]";
        public string GetByReferenceType(string elementType) => "ref " + elementType;
        public string GetPointerType(string elementType) => elementType + "*";
        public string GetPinnedType(string elementType) => elementType;
        public string GetGenericInstantiation(string genericType, ImmutableArray<string> typeArguments) =>
            genericType == "System.Nullable`1" ? typeArguments[0] + "?" : $"{genericType}<{string.Join(", ", typeArguments)}>";
        public string GetGenericTypeParameter(object? genericContext, int index) => $"!{index}";
        public string GetGenericMethodParameter(object? genericContext, int index) => $"!!{index}";
        public string GetFunctionPointerType(MethodSignature<string> signature) => "fnptr";
        public string GetModifiedType(string modifier, string unmodifiedType, bool isRequired) => unmodifiedType;
    }
}
