using System.Diagnostics;

namespace Trainer.Synthesis;

/// <summary>
/// <c>trainer synth</c>: brainstorms tasks for the asymmetric groups, then generates rows until DIR/train.jsonl holds
/// <see cref="SynthOptions.Examples"/>. Generation works in slots 0, 1, 2…: a slot's group is drawn from its index, and
/// each of its samples draws language, placeholders and task from (seed, slot, sample); a slot ends kept, failed, or
/// after <see cref="SynthOptions.MaxSamples"/> dropped answers. At most <see cref="SynthOptions.Concurrency"/> slots
/// run at once, and no more than the rows still missing. Everything is read back from the folder on start, so a
/// killed run continues where it stopped: finished requests are not sent again and the unfinished slots come first.
/// </summary>
public sealed class SynthRunner
{
    private readonly SynthOptions _options;
    private readonly TemplateSet _templates;
    private readonly SynthStore _store;
    private readonly ChatClient _client;
    private readonly TextWriter _log;
    private readonly Lock _gate = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private Dictionary<SynthGroup, IReadOnlyList<string>> _tasks = [];
    private int _kept, _inFlight, _nextSlot, _requests, _rows, _wasted;
    private long _promptTokens, _completionTokens;
    private string? _lastWaste;
    private Exception? _failure;

    private SynthRunner(SynthOptions options, TemplateSet templates, SynthStore store, ChatClient client, TextWriter log) =>
        (_options, _templates, _store, _client, _log) = (options, templates, store, client, log);

    /// <summary>Runs (or continues) the job and writes DIR/report.json; <paramref name="apiKey"/> goes to the client only.</summary>
    public static async Task<SynthReport> RunAsync(SynthOptions options, string? apiKey, TextWriter log, CancellationToken cancellationToken = default)
    {
        options.Validate();
        log = TextWriter.Synchronized(log); // the progress timer writes from its own thread
        var templates = TemplateSet.Load(options.TemplatesDir, options.Groups);
        Directory.CreateDirectory(options.OutputDir);
        options.Settings(templates).WriteOrCheck(options.OutputDir);
        using var store = SynthStore.Open(options.OutputDir, options.MaxSamples);
        RestoreOrphans(store);
        var limiter = options.RequestsPerMinute is null && options.TokensPerMinute is null ? null : new RateLimiter(options.RequestsPerMinute, options.TokensPerMinute);
        using var client = new ChatClient(options.BaseUrl, options.Model, apiKey, options.Retry, options.JsonMode, options.RequestTimeout, options.Concurrency, limiter);
        var runner = new SynthRunner(options, templates, store, client, log);
        if (store.RowCount < options.Examples)
        {
            await client.CheckReachableAsync(options.ConnectTimeout, cancellationToken);
            log.WriteLine($"synth: {store.RowCount} of {options.Examples} rows in {options.OutputDir}; asking {options.Model} at {client.BaseUrl}");
            await runner.RunAsync(cancellationToken);
        }
        else
        {
            log.WriteLine($"synth: {options.OutputDir} already holds {store.RowCount} rows (asked for {options.Examples}); nothing to do");
        }
        var report = runner.Report();
        report.Write(options.OutputDir);
        return report;
    }

    private SynthReport Report() =>
        SynthReport.Build(_store.Snapshot(), _options.Examples, _options.Groups.Sum(g => _store.Tasks(g).Count),
            new SessionReport(_requests, _rows, _promptTokens, _completionTokens, _clock.Elapsed.TotalSeconds), _options.PricePrompt, _options.PriceCompletion);

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var progress = new Timer(_ => Progress(), null, _options.ProgressInterval, _options.ProgressInterval);

        await Guarded(BrainstormAsync, stop);
        ThrowIfStopped(cancellationToken);
        _tasks = _options.Groups.Where(g => g.Brainstorms).ToDictionary(g => g, g => _store.Tasks(g));
        foreach (var (group, tasks) in _tasks)
            if (tasks.Count == 0) throw new SynthAbortException($"no task could be brainstormed for {group.Name}; see the brainstorm records in {Path.Combine(_options.OutputDir, "requests.jsonl")}.");
        _kept = _store.RowCount;

        await Task.WhenAll(Enumerable.Range(0, _options.Concurrency).Select(_ => Task.Run(() => Guarded(WorkerAsync, stop), CancellationToken.None)));
        ThrowIfStopped(cancellationToken);
        Progress();
    }

    /// <summary>
    /// Runs one part of the work; its failure is kept as the run's (the first one wins) and cancels every other request
    /// at once, so that an abort does not wait for the slots in flight. Cancellations are swallowed: <see cref="ThrowIfStopped"/> says why.
    /// </summary>
    private async Task Guarded(Func<CancellationToken, Task> work, CancellationTokenSource stop)
    {
        try
        {
            await work(stop.Token);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // another part failed, or the user stopped the run
        }
        catch (Exception e)
        {
            Interlocked.CompareExchange(ref _failure, e, null);
            await stop.CancelAsync();
        }
    }

    private void ThrowIfStopped(CancellationToken cancellationToken)
    {
        if (_failure is { } failure) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
        cancellationToken.ThrowIfCancellationRequested();
    }

    private async Task BrainstormAsync(CancellationToken cancellationToken)
    {
        var jobs = new List<(SynthGroup Group, int Index)>();
        foreach (var group in _options.Groups.Where(g => g.Brainstorms))
        {
            double share = group.PaperRows / _options.Groups.Sum(g => g.PaperRows);
            int needed = Math.Max(1, (int)Math.Ceiling(_options.Examples * share / _options.RowsPerBrainstorm));
            for (int i = 0; i < needed; i++)
                if (!_store.Slot("brainstorm", group.Name, i).Finished) jobs.Add((group, i));
        }
        if (jobs.Count == 0) return;
        _log.WriteLine($"synth: {jobs.Count} brainstorm(s) for {string.Join(", ", jobs.Select(j => j.Group.Name).Distinct())}");
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = _options.Concurrency, CancellationToken = cancellationToken };
        await System.Threading.Tasks.Parallel.ForEachAsync(jobs, parallel, async (job, token) =>
        {
            try
            {
                await BrainstormOneAsync(job.Group, job.Index, token);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                Interlocked.CompareExchange(ref _failure, e, null); // kept before Parallel.ForEachAsync gathers the cancellations it causes
                throw;
            }
        });
    }

    /// <summary>Samples brainstorm <paramref name="index"/> of the group until it yields tasks or is given up.</summary>
    private async Task BrainstormOneAsync(SynthGroup group, int index, CancellationToken cancellationToken)
    {
        var template = _templates.Brainstorm(group);
        var none = new SortedDictionary<string, string>(StringComparer.Ordinal);
        while (_store.Slot("brainstorm", group.Name, index) is { Finished: false } state)
        {
            int seed = RequestId.Seed(_options.Seed, "brainstorm", group, index, state.NextSample);
            var answer = await _client.SendAsync(new ChatRequest(template.Render(none), _options.Temperature, _options.TopP, 2048, seed), cancellationToken);
            Count(answer, rowKept: false);
            var tasks = answer.Answered && answer.FinishReason != "length" ? TaskListParser.Parse(answer.Content!) : [];
            string status = !answer.Answered ? "failed" : tasks.Count > 0 ? "kept" : "dropped";
            string? cause = status != "dropped" ? null : answer.FinishReason == "length" ? "length" : "no_tasks";
            var id = RequestId.Of("brainstorm", group, template, null, none, seed, index, state.NextSample);
            _store.FinishBrainstorm(Record(id, "brainstorm", group, index, state.NextSample, template, null, none, seed, status, cause, answer), tasks, _options.MaxSamples);
        }
    }

    private async Task WorkerAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            int slot;
            SynthGroup group;
            lock (_gate)
            {
                if (_kept + _inFlight >= _options.Examples) return;
                if (_wasted > Math.Max(50, _options.Examples) || (_wasted >= 10 && Volatile.Read(ref _rows) == 0))
                    throw new SynthAbortException($"{_wasted} slots gave no row in this run (last: {_lastWaste}); see {Path.Combine(_options.OutputDir, "requests.jsonl")}.");
                while (true)
                {
                    group = SlotDraw.GroupOf(_options.Groups, _options.Seed, _nextSlot);
                    if (!_store.Slot("generate", group.Name, _nextSlot).Finished) break;
                    _nextSlot++;
                }
                slot = _nextSlot++;
                _inFlight++;
            }
            bool kept = false;
            try
            {
                kept = await RunSlotAsync(group, slot, cancellationToken);
            }
            finally
            {
                lock (_gate)
                {
                    _inFlight--;
                    if (kept) _kept++;
                }
            }
        }
    }

    /// <summary>Samples the slot until an answer is kept (true) or the slot is given up (false).</summary>
    private async Task<bool> RunSlotAsync(SynthGroup group, int slot, CancellationToken cancellationToken)
    {
        var template = _templates.Generate(group);
        while (_store.Slot("generate", group.Name, slot) is { Finished: false } state)
        {
            int sample = state.NextSample;
            var draw = SlotDraw.Of(group, _options.Seed, _options.Languages, slot, sample, _tasks.GetValueOrDefault(group, []));
            var answer = await _client.SendAsync(new ChatRequest(template.Render(draw.Values()), _options.Temperature, _options.TopP, group.MaxTokens, draw.Seed, group.Keys), cancellationToken);
            var id = RequestId.Of("generate", group, template, draw.Task, draw.Placeholders, draw.Seed, slot, sample);
            var (texts, cause) = answer.Answered ? AnswerReader.Read(group, answer.FinishReason, answer.Content!) : (null, null);
            string status = !answer.Answered ? "failed" : texts is null ? "dropped" : "kept";
            var record = Record(id, "generate", group, slot, sample, template, draw.Task, draw.Placeholders, draw.Seed, status, cause, answer);
            bool kept = _store.FinishGeneration(record, texts is null ? null : Row(group, texts, draw.Task, draw.Placeholders, template.Version, id), _options.MaxSamples);
            Count(answer, kept);
            if (kept) return true;
            if (_store.Slot("generate", group.Name, slot).Finished)
            {
                lock (_gate)
                {
                    _wasted++;
                    _lastWaste = answer.Failure ?? cause ?? "duplicate";
                }
            }
        }
        return false;
    }

    /// <summary>The row of a kept generation (or of an orphaned kept record): its texts in query, positive, negative order.</summary>
    private static SynthRow Row(SynthGroup group, IReadOnlyList<string> texts, string task, IReadOnlyDictionary<string, string> placeholders, string template, string id) =>
        new(texts[0], texts[1], texts.Count > 2 ? texts[2] : null, group.FixedInstruction ?? task, group.Name, PlaceholderSampler.LanguageOf(placeholders), task, template, id);

    private static RequestRecord Record(string id, string kind, SynthGroup group, int slot, int sample, SynthTemplate template, string? task,
        IReadOnlyDictionary<string, string> placeholders, int seed, string status, string? cause, ChatAnswer answer) =>
        new(id, kind, group.Name, slot, sample, template.Version, task, placeholders, seed, status, cause, answer.Attempts, answer.Errors, answer.FinishReason,
            new UsageRecord(answer.PromptTokens, answer.CompletionTokens), Math.Round(answer.LatencyMs, 1), answer.Content, answer.Failure);

    /// <summary>Re-derives the rows and tasks of kept requests whose row or tasks a kill left unwritten.</summary>
    private static void RestoreOrphans(SynthStore store)
    {
        foreach (var record in store.Orphans)
        {
            var group = SynthGroup.Named(record.Group);
            if (record.Kind == "brainstorm")
            {
                store.RestoreTasks(record, TaskListParser.Parse(record.Answer ?? ""));
                continue;
            }
            var (texts, _) = AnswerReader.Read(group, record.FinishReason, record.Answer ?? "");
            if (texts is null) continue;
            store.RestoreRow(Row(group, texts, record.Task ?? "", record.Placeholders, record.Template, record.Id));
        }
    }

    private void Count(ChatAnswer answer, bool rowKept)
    {
        Interlocked.Increment(ref _requests);
        Interlocked.Add(ref _promptTokens, answer.PromptTokens);
        Interlocked.Add(ref _completionTokens, answer.CompletionTokens);
        if (rowKept) Interlocked.Increment(ref _rows);
    }

    private void Progress()
    {
        int rows = _store.RowCount;
        double seconds = _clock.Elapsed.TotalSeconds;
        double rate = Volatile.Read(ref _rows) / Math.Max(seconds, 1e-9);
        int left = Math.Max(0, _options.Examples - rows);
        string eta = left == 0 ? "done" : rate > 0 ? TimeSpan.FromSeconds(Math.Ceiling(left / rate)).ToString(@"h\:mm\:ss") : "unknown";
        _log.WriteLine(FormattableString.Invariant(
            $"synth: {rows}/{_options.Examples} rows ({100.0 * rows / _options.Examples:0.0}%), {Volatile.Read(ref _requests)} requests this run, {Volatile.Read(ref _requests) / Math.Max(seconds, 1e-9):0.0} requests/s, ETA {eta}"));
    }
}
