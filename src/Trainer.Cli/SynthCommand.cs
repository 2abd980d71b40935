using System.CommandLine;
using System.Runtime.InteropServices;
using Trainer.Synthesis;

namespace Trainer.Cli;

/// <summary>
/// <c>trainer synth --base-url URL --model NAME --output DIR --examples N [--groups LIST] [--languages FILE] [--seed 42]
/// [--concurrency 16] [--max-requests-per-minute R] [--max-tokens-per-minute T] [--temperature 1.0] [--top-p 1.0]
/// [--templates DIR] [--json-mode none|openai|schema|tgi] [--dry-run] [--api-key-env OPENAI_API_KEY] [--max-attempts 5]
/// [--max-samples 5] [--request-timeout 600] [--price-prompt P] [--price-completion P]</c>.
/// </summary>
public static class SynthCommand
{
    public static Command Build()
    {
        var baseUrl = new Option<string>("--base-url") { Required = true, Description = "OpenAI-compatible base URL, e.g. http://localhost:8000/v1 (requests go to {base}/chat/completions)" };
        var model = new Option<string>("--model") { Required = true, Description = "Model name the server serves" };
        var output = new Option<string>("--output") { Required = true, Description = "Folder for train.jsonl, tasks.jsonl, requests.jsonl, report.json (a rerun continues it)" };
        var examples = new Option<int>("--examples") { Required = true, Description = "Rows wanted in DIR/train.jsonl (a larger N extends an earlier run)" };
        var groups = new Option<string>("--groups")
        {
            DefaultValueFactory = _ => "all",
            Description = "Comma-separated: short-long, long-short, short-short, long-long, sts, bitext (mixed in the paper's proportions)",
        };
        var languages = new Option<string?>("--languages") { Description = "File of \"name, weight\" lines replacing the weighted XLM-R language list" };
        var seed = new Option<int>("--seed") { DefaultValueFactory = _ => 42, Description = "Seed of every draw and of the seeds sent to the server" };
        var concurrency = new Option<int>("--concurrency") { DefaultValueFactory = _ => 16, Description = "Requests in flight at once" };
        var rpm = new Option<double?>("--max-requests-per-minute") { Description = "Requests-per-minute budget (off by default)" };
        var tpm = new Option<double?>("--max-tokens-per-minute") { Description = "Tokens-per-minute budget, counting prompt estimate + max_tokens (off by default)" };
        var temperature = new Option<double>("--temperature") { DefaultValueFactory = _ => 1.0, Description = "Sampling temperature" };
        var topP = new Option<double>("--top-p") { DefaultValueFactory = _ => 1.0, Description = "Nucleus sampling top_p" };
        var templates = new Option<string?>("--templates") { Description = "Folder of GROUP.brainstorm.txt / GROUP.generate.txt replacing the shipped templates" };
        var jsonMode = new Option<string>("--json-mode") { DefaultValueFactory = _ => "none", Description = "none | openai (response_format json_object) | schema (structured outputs: json_schema with the keys required) | tgi (TGI's JSON grammar)" };
        var dryRun = new Option<bool>("--dry-run") { Description = "Print the sampled, rendered prompts and call nothing" };
        var apiKeyEnv = new Option<string>("--api-key-env") { DefaultValueFactory = _ => "OPENAI_API_KEY", Description = "Environment variable holding the API key (sent as Bearer; unset: no key)" };
        var maxAttempts = new Option<int>("--max-attempts") { DefaultValueFactory = _ => 5, Description = "HTTP attempts per request (retries on connection errors, time-outs, 408/409/429/5xx)" };
        var maxSamples = new Option<int>("--max-samples") { DefaultValueFactory = _ => 5, Description = "Answers a row slot may drop (cut off, unparsable, duplicate) before it is given up" };
        var timeout = new Option<double>("--request-timeout") { DefaultValueFactory = _ => 600, Description = "Seconds one HTTP attempt may take" };
        var pricePrompt = new Option<double?>("--price-prompt") { Description = "Price per million prompt tokens (for the report's cost)" };
        var priceCompletion = new Option<double?>("--price-completion") { Description = "Price per million completion tokens (for the report's cost)" };
        var command = new Command("synth", "Generate the paper's synthetic embedding training data from an OpenAI-compatible chat endpoint.")
        {
            baseUrl, model, output, examples, groups, languages, seed, concurrency, rpm, tpm, temperature, topP, templates, jsonMode, dryRun, apiKeyEnv,
            maxAttempts, maxSamples, timeout, pricePrompt, priceCompletion,
        };
        command.SetAction(r => CliErrors.Run(() =>
        {
            var options = new SynthOptions(r.GetValue(baseUrl)!, r.GetValue(model)!, r.GetValue(output)!, r.GetValue(examples))
            {
                Groups = SynthGroup.ParseList(r.GetValue(groups)),
                Languages = r.GetValue(languages) is { } file ? LanguageTable.Load(file) : LanguageTable.Default(),
                Seed = r.GetValue(seed),
                Concurrency = r.GetValue(concurrency),
                RequestsPerMinute = r.GetValue(rpm),
                TokensPerMinute = r.GetValue(tpm),
                Temperature = r.GetValue(temperature),
                TopP = r.GetValue(topP),
                TemplatesDir = r.GetValue(templates),
                JsonMode = JsonModes.Parse(r.GetValue(jsonMode)!),
                Retry = new RetryPolicy(MaxAttempts: r.GetValue(maxAttempts)),
                MaxSamples = r.GetValue(maxSamples),
                RequestTimeout = TimeSpan.FromSeconds(r.GetValue(timeout)),
                PricePrompt = r.GetValue(pricePrompt),
                PriceCompletion = r.GetValue(priceCompletion),
            };
            if (r.GetValue(dryRun))
            {
                SynthDryRun.Print(options, Console.Out);
                return 0;
            }
            using var cancel = new CancellationTokenSource();
            void Stop(PosixSignalContext context)
            {
                context.Cancel = true;
                cancel.Cancel();
            }
            using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
            using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
            try
            {
                string? key = Environment.GetEnvironmentVariable(r.GetValue(apiKeyEnv)!);
                var report = SynthRunner.RunAsync(options, string.IsNullOrEmpty(key) ? null : key, Console.Error, cancel.Token).GetAwaiter().GetResult();
                report.Print(Console.Out);
                return 0;
            }
            catch (OperationCanceledException) when (cancel.IsCancellationRequested)
            {
                Console.Error.WriteLine($"synth: stopped; run the same command to continue from {options.OutputDir}");
                return 130;
            }
        }));
        return command;
    }
}
