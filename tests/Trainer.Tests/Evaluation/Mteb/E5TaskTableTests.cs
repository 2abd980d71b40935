using Trainer.Evaluation.Mteb;
using Trainer.Text;

namespace Trainer.Tests.Evaluation.Mteb;

/// <summary>e5's table (names, aliases, types) and its instruction applied exactly as e5's <c>get_detailed_instruct</c> writes it.</summary>
public class E5TaskTableTests
{
    [Fact]
    public void Names_match_exactly_and_retrieval_also_by_e5s_lower_case_aliases()
    {
        Assert.Equal("Given a scientific claim, retrieve documents that support or refute the claim", E5TaskTable.Find("SciFact")!.Instruction);
        Assert.Equal(E5TaskTable.Find("SciFact")!.Instruction, E5TaskTable.Find("scifact")!.Instruction);
        Assert.Equal("TRECCOVID", E5TaskTable.Find("trec-covid")!.Name);
        Assert.Equal("FiQA2018", E5TaskTable.Find("fiqa")!.Name);
        Assert.StartsWith("Given a question, retrieve detailed question descriptions from Stackexchange", E5TaskTable.Find("CQADupstackAndroidRetrieval")!.Instruction);
        Assert.Null(E5TaskTable.Find("banking77classification")); // e5 lower-cases retrieval names only
        Assert.Equal(MtebTaskType.Sts, E5TaskTable.Find("STSBenchmark")!.Type);
        Assert.Equal("Retrieve semantically similar text.", E5TaskTable.Find("STSBenchmark")!.Instruction);
        Assert.Equal(MtebTaskType.PairClassification, E5TaskTable.Find("SprintDuplicateQuestions")!.Type);
        Assert.Equal(MtebTaskType.Summarization, E5TaskTable.Find("SummEval")!.Type);
    }

    [Fact]
    public void Quora_alone_instructs_its_documents_and_classification_alone_is_unnormalised()
    {
        var quora = E5TaskTable.Find("quora")!.RetrievalOptions(64, 8, 100, null);
        Assert.Equal(quora.Instruction, quora.DocumentInstruction);
        var scifact = E5TaskTable.Find("SciFact")!.RetrievalOptions(64, 8, 100, null);
        Assert.NotNull(scifact.Instruction);
        Assert.Null(scifact.DocumentInstruction);
        Assert.All(MtebTaskTypes.All, t => Assert.Equal(t != MtebTaskType.Classification, new MtebTask("x", t, null).Normalize));
    }

    [Fact]
    public void Overrides_replace_the_type_and_the_instruction_and_an_unknown_task_needs_a_type()
    {
        Assert.Null(MtebTask.Resolve("STSBenchmark", null, "").Instruction);
        Assert.Equal("Mine", MtebTask.Resolve("STSBenchmark", null, "Mine").Instruction);
        var own = MtebTask.Resolve("MyTickets", MtebTaskType.Classification, "Classify the ticket");
        Assert.Equal(("MyTickets", MtebTaskType.Classification, "Classify the ticket"), (own.Name, own.Type, own.Instruction));
        Assert.Equal("Retrieve parallel sentences.", MtebTask.Resolve("MyPairs", MtebTaskType.BitextMining, null).Instruction);
        Assert.Contains("--task-type", Assert.Throws<ArgumentException>(() => MtebTask.Resolve("MyTickets", null, null)).Message);
        Assert.Contains("PairClassification", Assert.Throws<ArgumentException>(() => MtebTaskTypes.Parse("pairs", "--task-type")).Message);
    }

    /// <summary>
    /// The token ids of one input per type, with stories260k's SentencePiece tokenizer: BOS, then e5's prompt
    /// "Instruct: {instruction}\nQuery: " and the text as one string, then EOS, exactly as tokenizing that string whole
    /// gives; the ids of the STS case are written out.
    /// </summary>
    [Fact]
    public void Every_type_puts_e5s_prompt_before_the_text_in_the_ids()
    {
        var tokenizer = EmbeddingTokenizer.Load(TestPaths.Stories260k);
        foreach (var name in new[] { "STSBenchmark", "SummEval", "Tatoeba", "Banking77Classification", "TwentyNewsgroupsClustering", "AskUbuntuDupQuestions", "SprintDuplicateQuestions", "SciFact", "QuoraRetrieval" })
        {
            var task = E5TaskTable.Find(name)!;
            var ids = tokenizer.Encode("a cat sat", task.Instruction, 512);
            Assert.Equal(tokenizer.Encode($"Instruct: {task.Instruction}\nQuery: a cat sat", null, 512), ids);
            Assert.True(ids.Length > tokenizer.Encode("a cat sat", null, 512).Length + 5, name);
        }
        var sts = tokenizer.Encode("a cat sat", E5TaskTable.Find("STSBenchmark")!.Instruction, 512);
        Assert.Equal(StsIds, sts);
    }

    /// <summary>
    /// BOS (1), "Instruct: Retrieve semantically similar text." in stories260k's 512 pieces, the newline as its byte
    /// piece &lt;0x0A&gt; (13), "Query: a cat sat", EOS (2).
    /// </summary>
    private static readonly int[] StsIds =
    [
        1, 359, 416, 356, 420, 425, 429, 413, 467, 410, 461, 316, 325, 411, 360, 262, 411, 423, 303, 413, 417, 429, 388, 422, 262, 288, 290, 295,
        259, 411, 444, 413, 426, 13, 473, 425, 285, 422, 467, 261, 280, 294, 262, 294, 2,
    ];
}
