namespace Trainer.Synthesis;

/// <summary>
/// Everything <c>trainer synth</c> is told, validated once by <see cref="Validate"/>. The API key is not here: it is
/// passed to the client alone, so that no record, log line or file can carry it.
/// </summary>
public sealed record SynthOptions(string BaseUrl, string Model, string OutputDir, int Examples)
{
    public IReadOnlyList<SynthGroup> Groups { get; init; } = SynthGroup.All;
    public LanguageTable Languages { get; init; } = LanguageTable.Default();
    public int Seed { get; init; } = 42;
    public int Concurrency { get; init; } = 16;
    public double? RequestsPerMinute { get; init; }
    public double? TokensPerMinute { get; init; }
    public double Temperature { get; init; } = 1.0;
    public double TopP { get; init; } = 1.0;
    public string? TemplatesDir { get; init; }
    public JsonMode JsonMode { get; init; } = JsonMode.None;
    public RetryPolicy Retry { get; init; } = new();

    /// <summary>Answers a slot may have dropped (cut off, unparsable, duplicate…) before it is given up; each resample has a new seed.</summary>
    public int MaxSamples { get; init; } = 5;

    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>How long the base URL has to answer the start-up check.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Brainstorms per group: one per this many of the group's expected rows (about 20 tasks each, so each task serves ~3 rows, as the paper's 500k rows over 150k tasks).</summary>
    public int RowsPerBrainstorm { get; init; } = 60;

    /// <summary>Prices in currency units per million prompt and completion tokens (cost is reported when either is given).</summary>
    public double? PricePrompt { get; init; }
    public double? PriceCompletion { get; init; }

    public TimeSpan ProgressInterval { get; init; } = TimeSpan.FromSeconds(2);

    public void Validate()
    {
        ChatClient.NormalizeBase(BaseUrl);
        if (string.IsNullOrWhiteSpace(Model)) throw new ArgumentException("--model: name the model the server serves.");
        if (string.IsNullOrWhiteSpace(OutputDir)) throw new ArgumentException("--output: name a folder.");
        if (Examples < 1) throw new ArgumentException($"--examples: expected at least 1, got {Examples}.");
        if (Concurrency < 1) throw new ArgumentException($"--concurrency: expected at least 1, got {Concurrency}.");
        if (RequestsPerMinute is <= 0) throw new ArgumentException($"--max-requests-per-minute: expected a positive number, got {RequestsPerMinute}.");
        if (TokensPerMinute is <= 0) throw new ArgumentException($"--max-tokens-per-minute: expected a positive number, got {TokensPerMinute}.");
        if (Temperature is < 0 or > 2) throw new ArgumentException($"--temperature: expected 0 to 2, got {Temperature}.");
        if (TopP is <= 0 or > 1) throw new ArgumentException($"--top-p: expected more than 0 and at most 1, got {TopP}.");
        if (Retry.MaxAttempts < 1) throw new ArgumentException($"--max-attempts: expected at least 1, got {Retry.MaxAttempts}.");
        if (MaxSamples < 1) throw new ArgumentException($"--max-samples: expected at least 1, got {MaxSamples}.");
        if (PricePrompt is < 0 || PriceCompletion is < 0) throw new ArgumentException("--price-prompt/--price-completion: expected a price of at least 0.");
        if (Groups.Contains(SynthGroup.Bitext) && Languages.Names.Count < 2) throw new ArgumentException("--languages: bitext needs at least two languages.");
    }

    /// <summary>The settings recorded in DIR/settings.json.</summary>
    public SynthSettings Settings(TemplateSet templates) =>
        new(Model, Seed, Groups.Select(g => g.Name).ToArray(), Languages.Fingerprint(), templates.Versions(), Temperature, TopP, JsonModes.Name(JsonMode));
}
