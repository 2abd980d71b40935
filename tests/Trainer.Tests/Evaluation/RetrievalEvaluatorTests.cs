using Trainer.Evaluation;
using Trainer.Inference;
using Trainer.Models;
using Trainer.Text;
using static TorchSharp.torch;

namespace Trainer.Tests.Evaluation;

public class RetrievalEvaluatorTests
{
    private const string Instruction = "Given a question, retrieve passages that answer it";

    private static readonly RetrievalEvaluationOptions Options = new() { Instruction = Instruction, MaxLength = 24, BatchSize = 3, TopK = 100 };

    /// <summary>
    /// The evaluator's run equals brute force over the same model: every query (with the instruction) against every
    /// document (without), cosine in double from <see cref="TextEmbedder"/>'s vectors, ranked score descending then id
    /// descending; and the measures equal <see cref="RetrievalMetrics"/> of that run.
    /// </summary>
    [Fact]
    public void Run_and_measures_equal_brute_force_cosine_over_the_same_embeddings()
    {
        using var model = ContrastiveFixture.Model(dropout: 0);
        var tokenizer = EmbeddingTokenizer.Load(TestPaths.TinyMistral);
        var data = BeirDataset.Load(TinyBeir.Write(), "test");

        var evaluation = RetrievalEvaluator.Evaluate(model, tokenizer, data, Options);

        var embedder = new TextEmbedder(model, batchSize: 5);
        var queries = embedder.Embed(data.Queries.Select(q => tokenizer.Encode(q.Text, Instruction, 24)).ToList());
        var documents = embedder.Embed(data.Corpus.Select(d => tokenizer.Encode(d.Text, null, 24)).ToList());
        Assert.Equal(["q1", "q2", "q3"], evaluation.QueryIds);
        Assert.Equal(10, evaluation.Documents);
        var run = new Dictionary<string, IReadOnlyList<ScoredDoc>>();
        for (int q = 0; q < queries.Length; q++)
        {
            var expected = data.Corpus.Select((d, i) => new ScoredDoc(d.Id, Dot(queries[q], documents[i])))
                .OrderByDescending(s => s.Score).ThenByDescending(s => s.DocId, StringComparer.Ordinal).ToList();
            var actual = evaluation.Results[q];
            Assert.Equal(expected.Select(s => s.DocId), actual.Select(s => s.DocId));
            for (int i = 0; i < expected.Count; i++) Assert.Equal(expected[i].Score, actual[i].Score, 1e-6); // float32 matmul against float64 sums
            run[data.Queries[q].Id] = expected;
        }
        var reference = RetrievalMetrics.Evaluate(data.Qrels, run);
        foreach (var metric in RetrievalMetrics.Reported) Assert.Equal(reference.Mean[metric.Name], evaluation.Report.Mean[metric.Name], 12);

        // the instruction reaches the queries: without it the scores change
        var plain = RetrievalEvaluator.Evaluate(model, tokenizer, data, Options with { Instruction = null });
        Assert.NotEqual(evaluation.Results[0][0].Score, plain.Results[0][0].Score);
    }

    [Fact]
    public void Results_do_not_depend_on_the_chunk_size_and_max_queries_keeps_the_first_queries()
    {
        using var model = ContrastiveFixture.Model(dropout: 0);
        var tokenizer = EmbeddingTokenizer.Load(TestPaths.TinyMistral);
        var data = BeirDataset.Load(TinyBeir.Write(), "test");

        var whole = RetrievalEvaluator.Evaluate(model, tokenizer, data, Options);
        var chunked = RetrievalEvaluator.Evaluate(model, tokenizer, data, Options with { ChunkDocuments = 2 });
        for (int q = 0; q < whole.Results.Count; q++) Assert.Equal(whole.Results[q], chunked.Results[q]);
        Assert.Equal(whole.Report.Mean, chunked.Report.Mean);

        var two = RetrievalEvaluator.Evaluate(model, tokenizer, data, Options with { MaxQueries = 2 });
        Assert.Equal(["q1", "q2"], two.QueryIds);
        Assert.Equal(["q1", "q2"], two.Report.QueryIds);
        Assert.Equal(whole.Report.PerQuery["q1"], two.Report.PerQuery["q1"]);
        Assert.Equal(whole.Report.PerQuery["q2"], two.Report.PerQuery["q2"]);
        Assert.Equal((whole.Report.PerQuery["q1"]["ndcg_at_10"] + whole.Report.PerQuery["q2"]["ndcg_at_10"]) / 2, two.Report.Mean["ndcg_at_10"], 12);

        var top4 = RetrievalEvaluator.Evaluate(model, tokenizer, data, Options with { TopK = 4 });
        for (int q = 0; q < whole.Results.Count; q++) Assert.Equal(whole.Results[q].Take(4), top4.Results[q]);
    }

    /// <summary>Evaluating in the middle of training changes nothing the run depends on.</summary>
    [Fact]
    public void Evaluation_leaves_train_mode_grad_mode_and_the_dropout_generator_untouched()
    {
        using var model = ContrastiveFixture.Model(dropout: 0.1); // training, LoRA dropout on
        var tokenizer = EmbeddingTokenizer.Load(TestPaths.TinyMistral);
        var data = BeirDataset.Load(TinyBeir.Write(), "test");
        var before = model.DropoutGenerator.GetState();

        var first = RetrievalEvaluator.Evaluate(model, tokenizer, data, Options with { ChunkDocuments = 4 });

        Assert.True(model.training);
        Assert.All(model.modules(), m => Assert.True(m.training));
        Assert.True(is_grad_enabled());
        Assert.Equal(before, model.DropoutGenerator.GetState());
        // dropout was off during evaluation (eval mode), so a second evaluation gives the same numbers
        var second = RetrievalEvaluator.Evaluate(model, tokenizer, data, Options with { ChunkDocuments = 4 });
        Assert.Equal(first.Report.Mean, second.Report.Mean);
        Assert.Equal(first.Results[0], second.Results[0]);
    }

    [Fact]
    public void Bad_options_are_refused_naming_the_option()
    {
        using var model = ContrastiveFixture.Model(dropout: 0);
        var tokenizer = EmbeddingTokenizer.Load(TestPaths.TinyMistral);
        var data = BeirDataset.Load(TinyBeir.Write(), "test");
        Assert.Contains("--top-k = 0", Assert.Throws<ArgumentException>(() => RetrievalEvaluator.Evaluate(model, tokenizer, data, Options with { TopK = 0 })).Message);
        Assert.Contains("--max-queries = 0", Assert.Throws<ArgumentException>(() => RetrievalEvaluator.Evaluate(model, tokenizer, data, Options with { MaxQueries = 0 })).Message);
    }

    private static double Dot(float[] a, float[] b)
    {
        double sum = 0;
        for (int i = 0; i < a.Length; i++) sum += (double)a[i] * b[i];
        return sum;
    }
}
