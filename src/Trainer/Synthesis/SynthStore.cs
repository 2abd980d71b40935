using System.Text.Json;

namespace Trainer.Synthesis;

/// <summary>
/// The output folder of a run, append-only: train.jsonl (rows), tasks.jsonl (brainstormed tasks) and requests.jsonl
/// (every finished request). Opening it reads back what earlier runs finished: which generation slots and brainstorms
/// are done, each unfinished slot's next sample, the rows kept (for deduplication) and the tasks. Writes are
/// serialized; a request's record is written before its row or tasks, and opening re-derives rows or tasks a kill left
/// unwritten from the record's answer (<see cref="Orphans"/>), so nothing is lost, doubled or asked again.
/// </summary>
public sealed class SynthStore : IDisposable
{
    private readonly AppendOnlyFile _requests, _rows, _tasks;
    private readonly Lock _lock = new();
    private readonly HashSet<string> _rowKeys = new(StringComparer.Ordinal);
    private readonly HashSet<string> _rowIds = new(StringComparer.Ordinal);
    private readonly TaskLists _taskLists = new();
    private readonly HashSet<string> _brainstormsWithTasks = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Kind, string Group, int Slot), SlotState> _slots = new();

    /// <summary>Where a slot stands: its next sample index, whether it is finished.</summary>
    public sealed record SlotState(int NextSample, bool Finished);

    private SynthStore(string folder, IReadOnlyList<RequestRecord> records, IReadOnlyList<SynthRow> rows, IReadOnlyList<TaskRecord> tasks,
        AppendOnlyFile requests, AppendOnlyFile rowFile, AppendOnlyFile taskFile, int maxSamples)
    {
        (Folder, _requests, _rows, _tasks) = (folder, requests, rowFile, taskFile);
        foreach (var row in rows) KeepRowKey(row);
        foreach (var task in tasks) AddTaskInMemory(task);
        foreach (var record in records) Track(record, maxSamples);
        Orphans = records.Where(r => r.Status == "kept" && (r.Kind == "generate" ? !_rowIds.Contains(r.Id) : !_brainstormsWithTasks.Contains(r.Id))).ToArray();
        RowCount = rows.Count;
        foreach (var row in rows) Tally.AddRow(row);
    }

    public string Folder { get; }

    public int RowCount { get; private set; }

    /// <summary>Counts over every record and row in the folder, earlier runs' and this run's (read it under <see cref="Snapshot"/>).</summary>
    private SynthTally Tally { get; } = new();

    /// <summary>A copy of the folder's counts so far.</summary>
    public SynthTally Snapshot()
    {
        lock (_lock) return Tally.Copy();
    }

    /// <summary>Kept requests whose row or tasks were not written (the process was killed in between); the caller re-derives them.</summary>
    public IReadOnlyList<RequestRecord> Orphans { get; }

    public static SynthStore Open(string folder, int maxSamples)
    {
        Directory.CreateDirectory(folder);
        AppendOnlyFile? requests = null, rows = null, tasks = null;
        try
        {
            requests = AppendOnlyFile.Open(Path.Combine(folder, "requests.jsonl"), out var requestLines);
            rows = AppendOnlyFile.Open(Path.Combine(folder, "train.jsonl"), out var rowLines);
            tasks = AppendOnlyFile.Open(TasksPath(folder), out var taskLines);
            return new SynthStore(folder, ReadAll<RequestRecord>(requests.Path, requestLines), ReadAll<SynthRow>(rows.Path, rowLines),
                ReadAll<TaskRecord>(tasks.Path, taskLines), requests, rows, tasks, maxSamples);
        }
        catch
        {
            requests?.Dispose();
            rows?.Dispose();
            tasks?.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The tasks in <paramref name="folder"/> as <see cref="Open"/> reads them (a torn last line left out), without
    /// creating or cutting any file: what a dry run shows.
    /// </summary>
    public static TaskLists ReadTasks(string folder)
    {
        string path = TasksPath(folder);
        var lists = new TaskLists();
        foreach (var task in ReadAll<TaskRecord>(path, AppendOnlyFile.ReadLines(path))) lists.Add(task.Group, task.Task);
        return lists;
    }

    private static string TasksPath(string folder) => Path.Combine(folder, "tasks.jsonl");

    public SlotState Slot(string kind, string group, int slot)
    {
        lock (_lock) return _slots.GetValueOrDefault((kind, group, slot)) ?? new SlotState(0, false);
    }

    /// <summary>The group's tasks so far, in the order they were first brainstormed.</summary>
    public IReadOnlyList<string> Tasks(SynthGroup group)
    {
        lock (_lock) return _taskLists.Of(group.Name);
    }

    /// <summary>
    /// Records a finished generation and the <paramref name="row"/> of its kept answer (null: none). A row that
    /// duplicates a kept row is not written, and the record says dropped (duplicate) instead; returns whether the row
    /// was kept. The record and the row are flushed before returning.
    /// </summary>
    public bool FinishGeneration(RequestRecord record, SynthRow? row, int maxSamples)
    {
        lock (_lock)
        {
            bool duplicate = row is not null && _rowKeys.Contains(Key(row));
            if (duplicate) record = record with { Status = "dropped", Cause = "duplicate" };
            Append(record, maxSamples);
            if (row is null || duplicate) return false;
            AppendRow(row);
            return true;
        }
    }

    /// <summary>Records a finished brainstorm, then appends its new tasks (exact duplicates of the group's tasks skipped); returns how many were new.</summary>
    public int FinishBrainstorm(RequestRecord record, IReadOnlyList<string> tasks, int maxSamples)
    {
        lock (_lock)
        {
            Append(record, maxSamples);
            return record.Status == "kept" ? AppendTasks(record.Group, record.Id, tasks) : 0;
        }
    }

    /// <summary>Writes the row of an orphaned kept record (see <see cref="Orphans"/>), unless it duplicates one.</summary>
    public void RestoreRow(SynthRow row)
    {
        lock (_lock)
            if (!_rowKeys.Contains(Key(row))) AppendRow(row);
    }

    public void RestoreTasks(RequestRecord brainstorm, IReadOnlyList<string> tasks)
    {
        lock (_lock) AppendTasks(brainstorm.Group, brainstorm.Id, tasks);
    }

    private int AppendTasks(string group, string brainstorm, IReadOnlyList<string> tasks)
    {
        int added = 0;
        foreach (var task in tasks)
        {
            if (_taskLists.Contains(group, task)) continue;
            var record = new TaskRecord(group, task, brainstorm);
            _tasks.Append(JsonSerializer.Serialize(record, SynthJson.Options));
            AddTaskInMemory(record);
            added++;
        }
        _brainstormsWithTasks.Add(brainstorm);
        return added;
    }

    private void AppendRow(SynthRow row)
    {
        _rows.Append(JsonSerializer.Serialize(row, SynthJson.Options));
        KeepRowKey(row);
        Tally.AddRow(row);
        RowCount++;
    }

    private void Append(RequestRecord record, int maxSamples)
    {
        _requests.Append(JsonSerializer.Serialize(record, SynthJson.Options));
        Track(record, maxSamples);
    }

    /// <summary>A slot is finished once kept, failed (an HTTP failure), or dropped <paramref name="maxSamples"/> times.</summary>
    private void Track(RequestRecord record, int maxSamples)
    {
        Tally.Add(record);
        var key = (record.Kind, record.Group, record.Slot);
        var state = _slots.GetValueOrDefault(key) ?? new SlotState(0, false);
        int next = Math.Max(state.NextSample, record.Sample + 1);
        bool finished = state.Finished || record.Status is "kept" or "failed" || next >= maxSamples;
        _slots[key] = new SlotState(next, finished);
    }

    private void KeepRowKey(SynthRow row)
    {
        _rowKeys.Add(Key(row));
        _rowIds.Add(row.Id);
    }

    private void AddTaskInMemory(TaskRecord task)
    {
        _taskLists.Add(task.Group, task.Task);
        _brainstormsWithTasks.Add(task.Brainstorm);
    }

    private static string Key(SynthRow row) => Key([row.Query, row.Positive, .. row.Negative is null ? Array.Empty<string>() : [row.Negative]]);

    private static string Key(IReadOnlyList<string> texts) => string.Join('\u0001', texts);

    private static List<T> ReadAll<T>(string path, IReadOnlyList<string> lines)
    {
        var items = new List<T>(lines.Count);
        for (int i = 0; i < lines.Count; i++)
        {
            try
            {
                items.Add(JsonSerializer.Deserialize<T>(lines[i], SynthJson.Options) ?? throw new JsonException("null"));
            }
            catch (JsonException e)
            {
                throw new InvalidDataException($"{path}:{i + 1}: not a synth record ({e.Message}); was the file edited by hand?");
            }
        }
        return items;
    }

    public void Dispose()
    {
        _requests.Dispose();
        _rows.Dispose();
        _tasks.Dispose();
    }
}
