using System.CommandLine;
using Trainer.Benchmarks;
using Trainer.Models;

namespace Trainer.Cli;

/// <summary><c>trainer benchmark</c>: commands that print speed and memory figures (see docs/benchmarks.md).</summary>
public static class BenchmarkCommands
{
    public static Command Build() => new("benchmark", "Print speed and memory figures.") { Synthetic(), Load(), Embed(), Train(), Tokenize(), Synth(), Mteb() };

    private static Command Synthetic()
    {
        var output = new Option<string>("--output") { Required = true, Description = "Folder to write the checkpoint to" };
        var sizeGb = new Option<double>("--size-gb") { DefaultValueFactory = _ => 2.0, Description = "Approximate weight bytes (GB)" };
        var dtype = new Option<string>("--dtype") { DefaultValueFactory = _ => "bfloat16", Description = "Weight dtype of the file: float32, float16 or bfloat16" };
        var hidden = new Option<int>("--hidden") { DefaultValueFactory = _ => 2048, Description = "Hidden size (heads = hidden/128, KV heads = heads/4)" };
        var layers = new Option<int?>("--layers") { Description = "Number of layers (default: as many as --size-gb allows)" };
        var intermediate = new Option<int?>("--intermediate") { Description = "MLP size (default 2.75 x hidden; Mistral-7B: --hidden 4096 --intermediate 14336 --layers 32)" };
        var device = new Option<string>("--device") { DefaultValueFactory = _ => "cpu", Description = "Where to draw the random weights: cpu (seeded), cuda or cuda:N (much faster for 7B-sized files)" };
        var command = new Command("synthetic", "Write a random Mistral-shaped checkpoint of about --size-gb.") { output, sizeGb, dtype, hidden, layers, intermediate, device };
        command.SetAction(r => CliErrors.Run(() =>
        {
            var config = SyntheticModel.Write(r.GetValue(output)!, (long)(r.GetValue(sizeGb) * 1e9), DTypes.Parse(r.GetValue(dtype)!, "--dtype"),
                hidden: r.GetValue(hidden), layers: r.GetValue(layers), intermediateSize: r.GetValue(intermediate), drawOn: DTypes.ParseDevice(r.GetValue(device)!, "--device"));
            Console.WriteLine($"wrote {config.NumHiddenLayers} layers to {r.GetValue(output)}");
            return 0;
        }));
        return command;
    }

    private static Command Mteb()
    {
        var model = new Option<string?>("--model") { Description = "A model folder: evaluate the README's small sets with it (embedding and scoring time); without: scoring alone on random vectors" };
        var adapter = new Option<string?>("--adapter") { Description = "A PEFT adapter or checkpoint to apply to --model" };
        var dataRoot = new Option<string>("--data") { DefaultValueFactory = _ => "data", Description = "The folder holding mteb/ (scripts/make_mteb_sets.py) and scifact/" };
        var dim = new Option<int>("--dim") { DefaultValueFactory = _ => 4096, Description = "Without --model: the width of the random vectors (e5-mistral: 4096)" };
        var maxLength = new Option<int>("--max-length") { DefaultValueFactory = _ => 64, Description = "Token budget per text" };
        var batchSize = new Option<int>("--batch-size") { DefaultValueFactory = _ => 64, Description = "Sequences per forward pass" };
        var command = new Command("mteb", "Time each MTEB task type: with --model the small sets end to end, else the scoring alone at MTEB-like sizes.") { model, adapter, dataRoot, dim, maxLength, batchSize };
        command.SetAction(r => CliErrors.Run(() =>
        {
            if (r.GetValue(model) is not { } dir)
            {
                MtebBenchmark.RunScoring(r.GetValue(dim), Console.Out);
                return 0;
            }
            string root = r.GetValue(dataRoot)!, mteb = Path.Combine(root, "mteb");
            (string, string, string, string)[] tasks =
            [
                ("SciFact", "Retrieval", Path.Combine(root, "scifact"), "test"),
                ("WordNetRerank", "Reranking", Path.Combine(mteb, "WordNetRerank"), "test"),
                ("STSBenchmark-small", "STS", Path.Combine(mteb, "STSBenchmark-small"), "test"),
                ("WordNetPairs", "PairClassification", Path.Combine(mteb, "WordNetPairs"), "test"),
                ("WordNetCategories", "Classification", Path.Combine(mteb, "WordNetCategories"), "test"),
                ("WordNetClustering", "Clustering", Path.Combine(mteb, "WordNetClustering"), "test"),
                ("WordNetSumm", "Summarization", Path.Combine(mteb, "WordNetSumm"), "test"),
                ("WordNetBitext", "BitextMining", Path.Combine(mteb, "WordNetBitext"), "test"),
            ];
            var source = Inference.ModelSource.Resolve(dir, r.GetValue(adapter), null, Console.Error);
            using var loaded = Inference.AdaptedModel.Load(source.ModelDir, source.AdapterDir, TorchSharp.torch.ScalarType.Float32, new TorchSharp.torch.Device("cpu"));
            MtebBenchmark.RunModel(loaded, source.LoadTokenizer(), tasks, r.GetValue(maxLength), r.GetValue(batchSize), Console.Out);
            return 0;
        }));
        return command;
    }

    private static Command Train()
    {
        var config = new Option<string>("--config") { Required = true, Description = "YAML training config: model, data, batch, devices, dtype, checkpointing, micro-batch" };
        var set = new Option<string[]>("--set") { Description = "Override a config key, e.g. --set training.batch_size=32 (repeatable)", AllowMultipleArgumentsPerToken = false };
        var steps = new Option<int>("--steps") { DefaultValueFactory = _ => 15, Description = "Training steps to run" };
        var warmup = new Option<int>("--warmup") { DefaultValueFactory = _ => 3, Description = "Leading steps left out of the figures" };
        var breakdown = new Option<bool>("--breakdown") { Description = "Also time each phase of a step and the forward per module kind, synchronising the device at every boundary (one device; docs/profile.md)" };
        var negatives = new Option<int?>("--negatives") { Description = "Hard negatives per row (data.negatives_per_query; a row with fewer repeats its own): the cost of k" };
        var command = new Command("train", "Train --steps steps of a config (scratch output_dir, no evaluation) and print s/step, real tokens/s, matmul TFLOP/s and peak memory.")
        {
            config, set, steps, warmup, breakdown, negatives,
        };
        command.SetAction(r => CliErrors.Run(() =>
        {
            int n = r.GetValue(steps), w = r.GetValue(warmup);
            var result = TrainBenchmark.Run(r.GetValue(config)!, r.GetValue(set) ?? [], n, w, Console.Out, r.GetValue(breakdown), r.GetValue(negatives));
            TrainBenchmark.Print(result, n, w, Console.Out);
            return 0;
        }));
        return command;
    }

    private static Command Load()
    {
        var model = new Option<string>("--model") { Required = true, Description = "Hugging Face model folder (config.json and safetensors)" };
        var dtype = new Option<string>("--dtype") { DefaultValueFactory = _ => "bfloat16", Description = "dtype to load into: float32, float16 or bfloat16" };
        var command = new Command("load", "Load a checkpoint and print peak RSS against the model's bytes.") { model, dtype };
        command.SetAction(r => CliErrors.Run(() =>
        {
            LoadBenchmark.Run(r.GetValue(model)!, DTypes.Parse(r.GetValue(dtype)!, "--dtype"), Console.Out);
            return 0;
        }));
        return command;
    }

    private static Command Embed()
    {
        var model = new Option<string>("--model") { Required = true, Description = "Hugging Face model folder (config.json and safetensors)" };
        var dtype = new Option<string>("--dtype") { DefaultValueFactory = _ => "float32", Description = "dtype to load into: float32, float16 or bfloat16" };
        var sequences = new Option<int>("--sequences") { DefaultValueFactory = _ => 512, Description = "Number of random sequences to embed" };
        var length = new Option<int>("--length") { DefaultValueFactory = _ => 128, Description = "Tokens per sequence (BOS, then random ids)" };
        var batchSize = new Option<int>("--batch-size") { DefaultValueFactory = _ => 16, Description = "Sequences per forward pass" };
        var command = new Command("embed", "Embedding throughput on random sequences.") { model, dtype, sequences, length, batchSize };
        command.SetAction(r => CliErrors.Run(() =>
        {
            EmbedBenchmark.Run(r.GetValue(model)!, DTypes.Parse(r.GetValue(dtype)!, "--dtype"), r.GetValue(sequences), r.GetValue(length), r.GetValue(batchSize), Console.Out);
            return 0;
        }));
        return command;
    }

    private static Command Tokenize()
    {
        var tokenizer = new Option<string>("--tokenizer") { Required = true, Description = "Model folder holding a Hugging Face tokenizer.json (byte-level BPE: Qwen2/2.5/3, Llama 3)" };
        var input = new Option<string>("--input") { Required = true, Description = "BEIR corpus.jsonl to encode (title and text of each document), e.g. data/scifact/corpus.jsonl" };
        var passes = new Option<int>("--passes") { DefaultValueFactory = _ => 4, Description = "Passes over the input: the first cold, the best of the others reported as warm" };
        var longText = new Option<double?>("--long-text-mb") { Description = "Instead: join the corpus into one text of about this many MB and time encoding it as one row of --max-length ids" };
        var maxLength = new Option<int>("--max-length") { DefaultValueFactory = _ => 512, Description = "With --long-text-mb: the row's length, special tokens included" };
        var command = new Command("tokenize", "Single-threaded tokenizer.json encoding speed over a corpus: MB/s and tokens/s (or, with --long-text-mb, the time to cut one long text).")
        {
            tokenizer, input, passes, longText, maxLength,
        };
        command.SetAction(r => CliErrors.Run(() =>
        {
            if (r.GetValue(longText) is double megabytes)
                TokenizeBenchmark.RunLongText(r.GetValue(tokenizer)!, r.GetValue(input)!, megabytes, r.GetValue(maxLength), r.GetValue(passes), Console.Out);
            else
                TokenizeBenchmark.Run(r.GetValue(tokenizer)!, r.GetValue(input)!, r.GetValue(passes), Console.Out);
            return 0;
        }));
        return command;
    }

    private static Command Synth()
    {
        var examples = new Option<int>("--examples") { DefaultValueFactory = _ => 2000, Description = "Rows to generate" };
        var concurrency = new Option<int>("--concurrency") { DefaultValueFactory = _ => 64, Description = "Requests in flight" };
        var groups = new Option<string>("--groups") { DefaultValueFactory = _ => "all", Description = "Groups to generate (as trainer synth --groups)" };
        var command = new Command("synth", "trainer synth's requests/s against an in-process server that answers at once.") { examples, concurrency, groups };
        command.SetAction(r => CliErrors.Run(() =>
        {
            SynthBenchmark.RunAsync(r.GetValue(examples), r.GetValue(concurrency), Trainer.Synthesis.SynthGroup.ParseList(r.GetValue(groups)), Console.Out).GetAwaiter().GetResult();
            return 0;
        }));
        return command;
    }
}
