using Google.Protobuf;
using Onnx;

namespace Trainer.Export;

/// <summary>
/// A small builder over ONNX's protobuf classes (OnnxSharp): nodes with generated output names, scalar and vector
/// constants, initializers (stored inline or appended to one external-data file). Only standard ONNX operators.
/// </summary>
public sealed class OnnxGraph
{
    private readonly GraphProto _graph = new() { Name = "trainer_embedding" };
    private readonly Dictionary<string, string> _constants = new();
    private int _counter;

    public OnnxGraph(int opset, ExternalDataWriter? externalData)
    {
        Opset = opset;
        ExternalData = externalData;
    }

    public int Opset { get; }

    public ExternalDataWriter? ExternalData { get; }


    /// <summary>Adds a node and returns its (single) output name.</summary>
    public string Node(string op, IEnumerable<string> inputs, params AttributeProto[] attributes) => Nodes(op, inputs, 1, attributes)[0];

    public string[] Nodes(string op, IEnumerable<string> inputs, int outputs, params AttributeProto[] attributes)
    {
        var name = $"{op}_{_counter++}";
        var node = new NodeProto { OpType = op, Name = name };
        node.Input.AddRange(inputs);
        var outs = Enumerable.Range(0, outputs).Select(i => $"{name}_out{i}").ToArray();
        node.Output.AddRange(outs);
        node.Attribute.AddRange(attributes);
        _graph.Node.Add(node);
        return outs;
    }

    public static AttributeProto Int(string name, long value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };


    public static AttributeProto Ints(string name, params long[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(values);
        return a;
    }

    public static AttributeProto Tensor(string name, TensorProto value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Tensor, T = value };

    /// <summary>An int64 vector constant (shared by value).</summary>
    public string Int64s(params long[] values)
    {
        var key = "i64:" + string.Join(",", values);
        if (_constants.TryGetValue(key, out var existing)) return existing;
        var tensor = new TensorProto { DataType = (int)TensorProto.Types.DataType.Int64 };
        tensor.Dims.Add(values.Length);
        tensor.Int64Data.AddRange(values);
        return _constants[key] = Node("Constant", [], Tensor("value", tensor));
    }

    /// <summary>A scalar constant of the given ONNX element type (float, float16 or int64).</summary>
    public string Scalar(double value, TensorProto.Types.DataType type)
    {
        var key = $"s:{type}:{value:R}";
        if (_constants.TryGetValue(key, out var existing)) return existing;
        var tensor = new TensorProto { DataType = (int)type };
        switch (type)
        {
            case TensorProto.Types.DataType.Float: tensor.FloatData.Add((float)value); break;
            case TensorProto.Types.DataType.Int64: tensor.Int64Data.Add((long)value); break;
            case TensorProto.Types.DataType.Float16: tensor.RawData = ByteString.CopyFrom(BitConverter.GetBytes((Half)value)); break;
            default: throw new ArgumentException($"No scalar constants of type {type}.");
        }
        return _constants[key] = Node("Constant", [], Tensor("value", tensor));
    }

    /// <summary>Adds a weight. Its bytes go to the external-data file when there is one, else into the model.</summary>
    public string Initializer(string name, TensorProto.Types.DataType type, long[] dims, ReadOnlySpan<byte> bytes)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)type };
        tensor.Dims.AddRange(dims);
        if (ExternalData is { } external)
        {
            var (offset, length) = external.Append(bytes);
            tensor.DataLocation = TensorProto.Types.DataLocation.External;
            tensor.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = external.FileName });
            tensor.ExternalData.Add(new StringStringEntryProto { Key = "offset", Value = offset.ToString(System.Globalization.CultureInfo.InvariantCulture) });
            tensor.ExternalData.Add(new StringStringEntryProto { Key = "length", Value = length.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        }
        else
        {
            tensor.RawData = ByteString.CopyFrom(bytes);
        }
        _graph.Initializer.Add(tensor);
        return name;
    }

    public void Input(string name, TensorProto.Types.DataType type, params string[] dims) => _graph.Input.Add(ValueInfo(name, type, dims));

    public void Output(string name, TensorProto.Types.DataType type, params string[] dims) => _graph.Output.Add(ValueInfo(name, type, dims));

    /// <summary>Renames a node output to a graph output name.</summary>
    public string Identity(string input, string outputName)
    {
        var node = new NodeProto { OpType = "Identity", Name = $"Identity_{_counter++}" };
        node.Input.Add(input);
        node.Output.Add(outputName);
        _graph.Node.Add(node);
        return outputName;
    }

    private static ValueInfoProto ValueInfo(string name, TensorProto.Types.DataType type, string[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var d in dims)
            shape.Dim.Add(long.TryParse(d, out long fixedSize) ? new TensorShapeProto.Types.Dimension { DimValue = fixedSize } : new TensorShapeProto.Types.Dimension { DimParam = d });
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = shape } } };
    }

    public ModelProto Model(string producer)
    {
        // The IR version each opset was released with (onnx/helper.py's table): 8 up to opset 18, 9 for 19-20, 10 for 21.
        long irVersion = Opset switch { <= 18 => 8, <= 20 => 9, _ => 10 };
        var model = new ModelProto { IrVersion = irVersion, ProducerName = producer, Graph = _graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
        return model;
    }
}

/// <summary>Appends weights to one side file (<c>model.onnx_data</c>), 64-byte aligned, and reports their offsets.</summary>
public sealed class ExternalDataWriter(string path) : IDisposable
{
    private readonly FileStream _stream = new(path, FileMode.Create, FileAccess.Write);

    public string FileName { get; } = Path.GetFileName(path);

    public (long Offset, long Length) Append(ReadOnlySpan<byte> bytes)
    {
        while (_stream.Position % 64 != 0) _stream.WriteByte(0);
        long offset = _stream.Position;
        _stream.Write(bytes);
        return (offset, bytes.Length);
    }

    public void Dispose() => _stream.Dispose();
}
