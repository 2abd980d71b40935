using System.Text.Json;
using Trainer.Benchmarks;
using Trainer.Data;
using Trainer.Synthesis;
using static Trainer.Tests.Synthesis.SynthHarness;

namespace Trainer.Tests.Synthesis;

/// <summary>What becomes of each kind of answer, scripted answer by answer against the in-process fake server.</summary>
public class SynthAnswerTests
{
    [Fact]
    public async Task Valid_fenced_and_trailing_comma_answers_become_rows_that_trainer_train_reads()
    {
        await using var server = await FakeChatServer.StartAsync(
            FakeReply.Answer(Sts("The cat sleeps.", "A cat is asleep.", "Dogs bark loudly.")),
            FakeReply.Answer("Here you go:\n```json\n" + Sts("Rain is coming.", "It will rain soon.", "The sun is out.") + "\n```"),
            FakeReply.Answer("{\"S1\": \"Buy milk\",\n \"S2\": \"Get some milk\",\n \"S3\": \"Sell the cow\",\n}"));
        var dir = TestPaths.TempDir("synth-valid");
        var report = await Run(Options(server, dir, 3));

        Assert.Equal(3, report.Rows);
        var rows = Lines(dir, "train.jsonl");
        Assert.Equal(["The cat sleeps.", "Rain is coming.", "Buy milk"], rows.Select(r => r.GetProperty("query").GetString()));
        Assert.Equal(["Get some milk"], rows.Skip(2).Select(r => r.GetProperty("positive").GetString()));
        Assert.All(rows, r =>
        {
            Assert.Equal("sts", r.GetProperty("group").GetString());
            Assert.Equal("Retrieve semantically similar text.", r.GetProperty("instruction").GetString());
            Assert.StartsWith("sts.generate@", r.GetProperty("template").GetString());
            Assert.False(string.IsNullOrEmpty(r.GetProperty("language").GetString()));
        });
        var examples = TrainingDataReader.Read([Path.Combine(dir, "train.jsonl")], defaultInstruction: null, skipInvalid: false).Examples;
        Assert.Equal(3, examples.Count);
        Assert.Equal(["Sell the cow"], examples[2].Negatives);

        var body = server.Received[0].Body;
        Assert.Equal("fake-model", body.GetProperty("model").GetString());
        Assert.Equal(1.0, body.GetProperty("temperature").GetDouble());
        Assert.Equal(1.0, body.GetProperty("top_p").GetDouble());
        Assert.Equal(1024, body.GetProperty("max_tokens").GetInt32());
        Assert.Equal(1, body.GetProperty("n").GetInt32());
        Assert.False(body.TryGetProperty("response_format", out _));
        Assert.Equal("user", body.GetProperty("messages")[0].GetProperty("role").GetString());
        var requests = Lines(dir, "requests.jsonl");
        Assert.Equal(["kept", "kept", "kept"], requests.Select(r => r.GetProperty("status").GetString()));
        Assert.Equal(rows.Select(r => r.GetProperty("id").GetString()), requests.Select(r => r.GetProperty("id").GetString()));
    }

    [Fact]
    public async Task Cut_off_unparsable_keyless_self_similar_and_duplicate_answers_are_dropped_counted_and_resampled_with_new_seeds()
    {
        string first = Sts("Alpha one.", "Alpha 1.", "Beta two.");
        await using var server = await FakeChatServer.StartAsync(
            FakeReply.Answer(first),
            FakeReply.Answer(Sts("Complete", "but", "cut off"), finishReason: "length"),
            FakeReply.Answer("{\"S1\": \"x\", \"S2\": \"y\"}"),
            FakeReply.Answer("{\"S1\": \"x\", \"S2\": \"y\", \"S3\": \"   \"}"),
            FakeReply.Answer(Sts("same", "same", "other")),
            FakeReply.Answer(Sts("one", "two", "two")),
            FakeReply.Answer("I would rather not."),
            FakeReply.Answer("{\"S1\": \"truncated"),
            FakeReply.Answer(first),
            FakeReply.Answer(Sts("Gamma three.", "Gamma 3.", "Delta four.")));
        var dir = TestPaths.TempDir("synth-drops");
        var report = await Run(Options(server, dir, 2) with { MaxSamples = 10 });

        Assert.Equal(2, report.Rows);
        Assert.Equal(new Dictionary<string, int>
        {
            ["duplicate"] = 1,
            ["length"] = 1,
            ["missing_key"] = 2,
            ["positive_equals_negative"] = 1,
            ["query_equals_positive"] = 1,
            ["unparsable"] = 2,
        }, report.Drops);
        var requests = Lines(dir, "requests.jsonl");
        Assert.Equal(10, requests.Count);
        Assert.Equal(Enumerable.Range(0, 9), requests.Skip(1).Select(r => r.GetProperty("sample").GetInt32()));
        Assert.All(requests.Skip(1), r => Assert.Equal(1, r.GetProperty("slot").GetInt32()));
        Assert.Equal(10, Seeds(server).Distinct().Count());
        Assert.Equal(10, requests.Select(r => r.GetProperty("id").GetString()).Distinct().Count());
        Assert.Equal(["Alpha one.", "Gamma three."], Lines(dir, "train.jsonl").Select(r => r.GetProperty("query").GetString()));
    }

    [Fact]
    public async Task A_slot_that_drops_max_samples_answers_is_given_up_and_the_next_slot_fills_the_row()
    {
        await using var server = await FakeChatServer.StartAsync(FakeReply.Answer("no"), FakeReply.Answer("no"), FakeReply.Valid());
        var dir = TestPaths.TempDir("synth-give-up");
        var report = await Run(Options(server, dir, 1) with { MaxSamples = 2 });
        Assert.Equal(1, report.Rows);
        Assert.Equal([0, 0, 1], Lines(dir, "requests.jsonl").Select(r => r.GetProperty("slot").GetInt32()));
    }

    [Fact]
    public async Task Brainstormed_tasks_from_a_python_list_are_saved_before_generation_and_carried_as_instructions()
    {
        await using var server = await FakeChatServer.StartAsync(
            FakeReply.Answer("Sure:\n['Find recipes that use a given ingredient', \"Find a court ruling on a dispute\", 'Find recipes that use a given ingredient']"));
        var dir = TestPaths.TempDir("synth-brainstorm");
        var report = await Run(Options(server, dir, 4) with { Groups = [SynthGroup.ShortLong], JsonMode = JsonMode.OpenAi });

        Assert.Equal(4, report.Rows);
        Assert.Equal(2, report.Tasks);
        var tasks = Lines(dir, "tasks.jsonl").Select(t => t.GetProperty("task").GetString()!).ToArray();
        Assert.Equal(["Find recipes that use a given ingredient", "Find a court ruling on a dispute"], tasks);
        var received = server.Received;
        Assert.False(received[0].Body.TryGetProperty("response_format", out _)); // a list is asked for: no JSON object mode
        Assert.All(received.Skip(1), r =>
        {
            Assert.Equal("json_object", r.Body.GetProperty("response_format").GetProperty("type").GetString());
            Assert.Equal(2048, r.Body.GetProperty("max_tokens").GetInt32());
            Assert.Contains(tasks, t => r.Body.GetProperty("messages")[0].GetProperty("content").GetString()!.Contains(t));
        });
        var rows = Lines(dir, "train.jsonl");
        Assert.All(rows, r =>
        {
            Assert.Contains(r.GetProperty("instruction").GetString(), tasks);
            Assert.Equal(r.GetProperty("instruction").GetString(), r.GetProperty("task").GetString());
            Assert.Equal("short-long", r.GetProperty("group").GetString());
            Assert.StartsWith("user_query text for seed", r.GetProperty("query").GetString());
            Assert.StartsWith("hard_negative_document text", r.GetProperty("negative").GetString());
        });
    }

    [Fact]
    public async Task Schema_json_mode_sends_strict_structured_outputs_and_reads_the_tasks_object_a_brainstorm_answers()
    {
        await using var server = await FakeChatServer.StartAsync(
            FakeReply.Answer("{\"tasks\": [\"Find a poem that matches a mood\", \"Find a bug report for a crash\"]}"));
        var dir = TestPaths.TempDir("synth-schema");
        var report = await Run(Options(server, dir, 2) with { Groups = [SynthGroup.LongShort], JsonMode = JsonMode.Schema });

        Assert.Equal(2, report.Rows);
        var tasks = Lines(dir, "tasks.jsonl").Select(t => t.GetProperty("task").GetString()!).ToArray();
        Assert.Equal(["Find a poem that matches a mood", "Find a bug report for a crash"], tasks);
        var received = server.Received;
        var brainstorm = received[0].Body.GetProperty("response_format");
        Assert.Equal("json_schema", brainstorm.GetProperty("type").GetString());
        var tasksSchema = brainstorm.GetProperty("json_schema");
        Assert.True(tasksSchema.GetProperty("strict").GetBoolean());
        Assert.Equal(["tasks"], tasksSchema.GetProperty("schema").GetProperty("required").EnumerateArray().Select(k => k.GetString()));
        var list = tasksSchema.GetProperty("schema").GetProperty("properties").GetProperty("tasks");
        Assert.Equal("array", list.GetProperty("type").GetString());
        Assert.Equal(1, list.GetProperty("minItems").GetInt32());
        Assert.False(tasksSchema.GetProperty("schema").GetProperty("additionalProperties").GetBoolean());
        Assert.All(received.Skip(1), r =>
        {
            var format = r.Body.GetProperty("response_format");
            Assert.Equal("json_schema", format.GetProperty("type").GetString());
            var schema = format.GetProperty("json_schema").GetProperty("schema");
            Assert.Equal(["input_text", "label", "misleading_label"], schema.GetProperty("required").EnumerateArray().Select(k => k.GetString()));
            Assert.All(schema.GetProperty("properties").EnumerateObject(), p => Assert.Equal("string", p.Value.GetProperty("type").GetString()));
            Assert.False(schema.GetProperty("additionalProperties").GetBoolean());
        });
    }

    [Fact]
    public async Task Tgi_json_mode_sends_a_grammar_requiring_the_groups_keys()
    {
        await using var server = await FakeChatServer.StartAsync();
        var dir = TestPaths.TempDir("synth-tgi");
        await Run(Options(server, dir, 1) with { Groups = [SynthGroup.Bitext], JsonMode = JsonMode.Tgi });
        var format = server.Received.Single().Body.GetProperty("response_format");
        Assert.Equal("json_object", format.GetProperty("type").GetString());
        Assert.Equal(["S1", "S2", "S3"], format.GetProperty("value").GetProperty("required").EnumerateArray().Select(k => k.GetString()));
        var row = Lines(dir, "train.jsonl").Single();
        Assert.Equal("Retrieve parallel sentences.", row.GetProperty("instruction").GetString());
        var placeholders = Lines(dir, "requests.jsonl").Single().GetProperty("placeholders");
        Assert.NotEqual(placeholders.GetProperty("src_lang").GetString(), placeholders.GetProperty("tgt_lang").GetString());
        Assert.Equal(placeholders.GetProperty("tgt_lang").GetString(), row.GetProperty("language").GetString());
    }

    [Fact]
    public async Task Concurrency_bounds_the_requests_in_flight_and_never_exceeds_the_rows_missing()
    {
        await using var server = await FakeChatServer.StartAsync(Enumerable.Repeat(FakeReply.Slow(TimeSpan.FromMilliseconds(150)), 40).ToArray());
        var dir = TestPaths.TempDir("synth-concurrency");
        await Run(Options(server, dir, 12) with { Concurrency = 4 });
        Assert.Equal(4, server.MaxInFlight);
        Assert.Equal(12, server.Received.Count);

        await using var few = await FakeChatServer.StartAsync(Enumerable.Repeat(FakeReply.Slow(TimeSpan.FromMilliseconds(150)), 10).ToArray());
        await Run(Options(few, TestPaths.TempDir("synth-concurrency-few"), 3) with { Concurrency = 16 });
        Assert.Equal(3, few.Received.Count);
        Assert.Equal(3, few.MaxInFlight);
        Assert.Equal(JsonValueKind.Number, few.Received[0].Body.GetProperty("seed").ValueKind);
    }
}
