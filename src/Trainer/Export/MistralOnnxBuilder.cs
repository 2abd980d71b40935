using Onnx;
using Trainer.Models.Mistral;
using Trainer.Models.Modules;
using static TorchSharp.torch;
using DataType = Onnx.TensorProto.Types.DataType;

namespace Trainer.Export;

/// <summary>
/// The Mistral family's ONNX exporter (<see cref="MistralFamily"/>; <see cref="ExportJob.WriteOnnx"/> picks it by family).
/// Writes the Mistral embedding forward as a standard-operator ONNX graph, with the same numerics as
/// <see cref="MistralModel"/>: float32 RMSNorm and softmax, rotate-half RoPE computed in-graph for the dynamic sequence
/// length, grouped-query attention by broadcasting (queries reshaped to [B, Nkv, Nh/Nkv, S, Dh], so K and V are never
/// copied), causal + sliding-window + padding mask, SwiGLU; Qwen2's q/k/v biases and Qwen3's per-head q/k norms.
/// Outputs the final hidden states and the L2-normalised hidden state at each row's last attended position, both float32.
/// Three rules make the graph give <c>trainer embed</c>'s vector to stacks that build their inputs differently:
/// <list type="bullet">
/// <item>Padding may be on either side: a row's last attended position is the highest position its attention_mask
/// marks, and RoPE depends only on the distance between positions.</item>
/// <item>That position always reads <paramref name="eosId"/>, whatever id the row holds there: a row built as
/// <c>trainer tokenize</c> builds it already ends in EOS, and a row that a tokenizer cut after adding its special tokens
/// (transformers.js truncates [BOS, text…, EOS] to max_length and so drops the EOS) then reads exactly BOS + the first
/// max_length − 2 text ids + EOS, as <c>trainer tokenize</c> gives.</item>
/// <item>In <c>last_hidden_state</c>, the padding after a row's last attended position repeats that position's state,
/// so that pooling the last column (transformers.js' <c>last_token</c>) gives the EOS state with right padding too.
/// Real positions are untouched; padding is never real output.</item>
/// </list>
/// Legend: B batch, S sequence, H hidden, Nkv KV heads, R = Nh / Nkv, Dh head dim.
/// </summary>
public sealed class MistralOnnxBuilder(OnnxGraph g, MergedWeights weights, MistralConfig config, ScalarType dtype, long eosId)
{
    private readonly MistralConfig _c = config;
    private readonly DataType _t = dtype == ScalarType.Float16 ? DataType.Float16 : DataType.Float;

    public ModelProto Build()
    {
        g.Input("input_ids", DataType.Int64, "batch", "sequence");
        g.Input("attention_mask", DataType.Int64, "batch", "sequence");

        var seqLen = g.Node("Gather", [g.Node("Shape", ["input_ids"]), g.Int64s(1)]);                                      // [1]
        var positions = g.Node("Range", [g.Scalar(0, DataType.Int64), g.Node("Squeeze", [seqLen, g.Int64s(0)]), g.Scalar(1, DataType.Int64)]); // [S]
        var (last, isLast) = LastAttended(positions);                                                                       // [B, 1], [B, S] bool
        var ids = g.Node("Where", [isLast, g.Scalar(eosId, DataType.Int64), "input_ids"]);                                  // EOS where pooled
        var x = g.Node("Gather", [Weight("embed_tokens.weight", transpose: false), ids], OnnxGraph.Int("axis", 0));       // [B, S, H]
        var (cos, sin) = Rotary(positions);
        var mask = Mask(positions);

        for (int i = 0; i < _c.NumHiddenLayers; i++) x = Layer(x, $"layers.{i}", cos, sin, mask);
        var hidden = ToFloat(RmsNorm(x, "norm.weight"));                                                                     // [B, S, H] float32
        var pick = g.Node("Unsqueeze", [Cast(isLast, DataType.Float), g.Int64s(2)]);                                         // [B, S, 1] one-hot
        var pooled = Reduce("ReduceSum", g.Node("Mul", [hidden, pick]), 1, keepDims: true);                                 // [B, 1, H]
        var afterLast = g.Node("Unsqueeze", [g.Node("Greater", [g.Node("Unsqueeze", [positions, g.Int64s(0)]), last]), g.Int64s(2)]); // [B, S, 1]
        g.Identity(g.Node("Where", [afterLast, pooled, hidden]), "last_hidden_state");
        g.Identity(Normalize(g.Node("Squeeze", [pooled, g.Int64s(1)])), "sentence_embedding");
        g.Output("last_hidden_state", DataType.Float, "batch", "sequence", _c.HiddenSize.ToString(System.Globalization.CultureInfo.InvariantCulture));
        g.Output("sentence_embedding", DataType.Float, "batch", _c.HiddenSize.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return g.Model("trainer");
    }

    private string Layer(string x, string p, string cos, string sin, string mask)
    {
        int rep = _c.NumAttentionHeads / _c.NumKeyValueHeads;
        var h = RmsNorm(x, $"{p}.input_layernorm.weight");
        var q = Heads(QkvProjection(h, $"{p}.self_attn.q_proj"), rep);                     // [B, Nkv, R, S, Dh]
        var k = Heads(QkvProjection(h, $"{p}.self_attn.k_proj"), 1);                       // [B, Nkv, 1, S, Dh]
        var v = Heads(QkvProjection(h, $"{p}.self_attn.v_proj"), 1);                       // [B, Nkv, 1, S, Dh]
        if (_c.QkNorm) (q, k) = (RmsNorm(q, $"{p}.self_attn.q_norm.weight"), RmsNorm(k, $"{p}.self_attn.k_norm.weight")); // per head, over Dh
        q = Rope(q, cos, sin);
        k = Rope(k, cos, sin);
        var scores = g.Node("MatMul", [q, g.Node("Transpose", [k], OnnxGraph.Ints("perm", 0, 1, 2, 4, 3))]); // [B, Nkv, R, S, S]
        scores = g.Node("Add", [g.Node("Mul", [ToFloat(scores), g.Scalar(1.0 / Math.Sqrt(_c.HeadDim), DataType.Float)]), mask]);
        var probs = ToModel(g.Node("Softmax", [scores], OnnxGraph.Int("axis", -1)));      // float32 softmax, like HF
        var attended = g.Node("MatMul", [probs, v]);                                        // [B, Nkv, R, S, Dh]
        attended = g.Node("Transpose", [attended], OnnxGraph.Ints("perm", 0, 3, 1, 2, 4));  // [B, S, Nkv, R, Dh]
        attended = g.Node("Reshape", [attended, g.Int64s(0, 0, (long)_c.NumAttentionHeads * _c.HeadDim)]);
        x = g.Node("Add", [x, Linear(attended, $"{p}.self_attn.o_proj.weight")]);

        var h2 = RmsNorm(x, $"{p}.post_attention_layernorm.weight");
        var gate = Linear(h2, $"{p}.mlp.gate_proj.weight");
        var up = Linear(h2, $"{p}.mlp.up_proj.weight");
        var act = g.Node("Mul", [g.Node("Mul", [gate, g.Node("Sigmoid", [gate])]), up]);   // silu(gate) · up
        return g.Node("Add", [x, Linear(act, $"{p}.mlp.down_proj.weight")]);
    }

    /// <summary>[B, S, N·Dh] → [B, Nkv, N/Nkv, S, Dh] (N = Nkv·groups).</summary>
    private string Heads(string x, int groups)
    {
        var split = g.Node("Reshape", [x, g.Int64s(0, 0, _c.NumKeyValueHeads, groups, _c.HeadDim)]); // [B, S, Nkv, groups, Dh]
        return g.Node("Transpose", [split], OnnxGraph.Ints("perm", 0, 2, 3, 1, 4));
    }

    /// <summary>x·cos + rotate_half(x)·sin with tables [S, Dh] broadcast over the leading dims.</summary>
    private string Rope(string x, string cos, string sin)
    {
        long half = _c.HeadDim / 2;
        var first = g.Node("Slice", [x, g.Int64s(0), g.Int64s(half), g.Int64s(-1)]);
        var second = g.Node("Slice", [x, g.Int64s(half), g.Int64s(_c.HeadDim), g.Int64s(-1)]);
        var rotated = g.Node("Concat", [g.Node("Neg", [second]), first], OnnxGraph.Int("axis", -1));
        return g.Node("Add", [g.Node("Mul", [x, cos]), g.Node("Mul", [rotated, sin])]);
    }

    /// <summary>cos/sin tables [S, Dh] in the model dtype; angles in float32 from the same inv_freq as the TorchSharp model.</summary>
    private (string Cos, string Sin) Rotary(string positions)
    {
        using var invFreq = RotaryEmbedding.InverseFrequencies(_c.HeadDim, _c.RopeTheta, scaling: _c.RopeScaling);   // [Dh/2]
        var inv = g.Initializer("rope.inv_freq", DataType.Float, [_c.HeadDim / 2], invFreq.bytes);
        var freqs = g.Node("Mul", [g.Node("Unsqueeze", [Cast(positions, DataType.Float), g.Int64s(1)]), inv]); // [S, Dh/2]
        var angles = g.Node("Concat", [freqs, freqs], OnnxGraph.Int("axis", -1));                                  // [S, Dh]
        return (ToModel(g.Node("Cos", [angles])), ToModel(g.Node("Sin", [angles])));
    }

    /// <summary>Additive float32 mask [B, 1, 1, S, S]: 0 where visible, float.MinValue where hidden.</summary>
    private string Mask(string positions)
    {
        var distance = g.Node("Sub", [g.Node("Unsqueeze", [positions, g.Int64s(1)]), g.Node("Unsqueeze", [positions, g.Int64s(0)])]); // q − k [S, S]
        var visible = g.Node("GreaterOrEqual", [distance, g.Scalar(0, DataType.Int64)]);
        if (_c.SlidingWindow is int window) visible = g.Node("And", [visible, g.Node("Less", [distance, g.Scalar(window, DataType.Int64)])]);
        var keyReal = g.Node("Unsqueeze", [Cast("attention_mask", DataType.Bool), g.Int64s(1, 2, 3)]);   // [B, 1, 1, 1, S]
        visible = g.Node("And", [g.Node("Unsqueeze", [visible, g.Int64s(0, 1, 2)]), keyReal]);            // [B, 1, 1, S, S]
        return g.Node("Where", [visible, g.Scalar(0, DataType.Float), g.Scalar(float.MinValue, DataType.Float)]);
    }

    /// <summary>Each row's highest attended position [B, 1] (right or left padding alike), and as a one-hot [B, S].</summary>
    private (string Last, string IsLast) LastAttended(string positions)
    {
        var attendedAt = g.Node("Mul", [g.Node("Unsqueeze", [positions, g.Int64s(0)]), "attention_mask"]);               // [B, S]: position or 0
        var last = Reduce("ReduceMax", attendedAt, 1, keepDims: true);                                                     // [B, 1]
        return (last, g.Node("Equal", [g.Node("Unsqueeze", [positions, g.Int64s(0)]), last]));
    }

    /// <summary>L2 normalisation of [B, H] rows (norms clamped at 1e-12, as torch's F.normalize).</summary>
    private string Normalize(string pooled)
    {
        var norm = g.Node("Sqrt", [Reduce("ReduceSum", g.Node("Mul", [pooled, pooled]), -1, keepDims: true)]);
        return g.Node("Div", [pooled, g.Node("Max", [norm, g.Scalar(1e-12, DataType.Float)])]);
    }

    private string RmsNorm(string x, string weightName)
    {
        var xf = ToFloat(x);
        var variance = Reduce("ReduceMean", g.Node("Mul", [xf, xf]), -1, keepDims: true);
        var normed = g.Node("Mul", [xf, g.Node("Reciprocal", [g.Node("Sqrt", [g.Node("Add", [variance, g.Scalar(_c.RmsNormEps, DataType.Float)])])])]);
        return g.Node("Mul", [Weight(weightName, transpose: false), ToModel(normed)]);
    }

    private string Linear(string x, string weightName) => g.Node("MatMul", [x, Weight(weightName, transpose: true)]);

    /// <summary>The q, k or v projection: with Qwen2's bias when the config has one.</summary>
    private string QkvProjection(string x, string module)
    {
        var y = Linear(x, $"{module}.weight");
        return _c.QkvBias ? g.Node("Add", [y, Weight($"{module}.bias", transpose: false)]) : y;
    }

    /// <summary>ReduceSum takes axes as an input from opset 13, ReduceMean and ReduceMax from opset 18.</summary>
    private string Reduce(string op, string x, long axis, bool keepDims)
    {
        var keep = OnnxGraph.Int("keepdims", keepDims ? 1 : 0);
        bool axesAsInput = op == "ReduceSum" ? g.Opset >= 13 : g.Opset >= 18;
        return axesAsInput ? g.Node(op, [x, g.Int64s(axis)], keep) : g.Node(op, [x], keep, OnnxGraph.Ints("axes", axis));
    }

    private string Weight(string parameterName, bool transpose)
    {
        using var scope = NewDisposeScope();
        var w = weights.Parameter(parameterName, dtype);
        if (transpose) w = w.t();
        w = w.contiguous();
        return g.Initializer(parameterName, _t, w.shape, w.bytes);
    }

    private string ToFloat(string x) => _t == DataType.Float ? x : Cast(x, DataType.Float);

    private string ToModel(string x) => _t == DataType.Float ? x : Cast(x, _t);

    private string Cast(string x, DataType to) => g.Node("Cast", [x], OnnxGraph.Int("to", (long)to));
}
