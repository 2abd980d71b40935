namespace Trainer.Evaluation.Mteb;

/// <summary>
/// e5-mistral-7b-instruct's evaluation table: MTEB task name → type and instruction, as its published evaluation code
/// writes them (microsoft/unilm, <c>e5/utils.py</c>, <c>get_task_def_by_task_name_and_type</c>; the model card points
/// there). STS, Summarization and BitextMining have one instruction per type; the others one per task. Names match
/// exactly, as e5 does, except retrieval's, which e5 also accepts in lower case and under the BEIR folder names
/// (<c>trec-covid</c>, <c>climate-fever</c>, <c>dbpedia-entity</c>, <c>webis-touche2020</c>, <c>fiqa</c>,
/// <c>quora</c>, <c>miracl</c>) and, for any name starting with <c>cqadupstack</c>, one shared instruction. The STS,
/// Summarization and BitextMining task names listed are MTEB's English ones, so that <c>--task</c> knows their type.
/// </summary>
public static class E5TaskTable
{
    private const string Sts = "Retrieve semantically similar text.";
    private const string Summarization = "Given a news summary, retrieve other semantically similar summaries";
    private const string Bitext = "Retrieve parallel sentences.";
    private const string CqaDupStack = "Given a question, retrieve detailed question descriptions from Stackexchange that are duplicates to the given question";

    private static readonly (string Name, MtebTaskType Type, string Instruction)[] Tasks =
    [
        ("AmazonCounterfactualClassification", MtebTaskType.Classification, "Classify a given Amazon customer review text as either counterfactual or not-counterfactual"),
        ("AmazonPolarityClassification", MtebTaskType.Classification, "Classify Amazon reviews into positive or negative sentiment"),
        ("AmazonReviewsClassification", MtebTaskType.Classification, "Classify the given Amazon review into its appropriate rating category"),
        ("Banking77Classification", MtebTaskType.Classification, "Given a online banking query, find the corresponding intents"),
        ("EmotionClassification", MtebTaskType.Classification, "Classify the emotion expressed in the given Twitter message into one of the six emotions: anger, fear, joy, love, sadness, and surprise"),
        ("ImdbClassification", MtebTaskType.Classification, "Classify the sentiment expressed in the given movie review text from the IMDB dataset"),
        ("MassiveIntentClassification", MtebTaskType.Classification, "Given a user utterance as query, find the user intents"),
        ("MassiveScenarioClassification", MtebTaskType.Classification, "Given a user utterance as query, find the user scenarios"),
        ("MTOPDomainClassification", MtebTaskType.Classification, "Classify the intent domain of the given utterance in task-oriented conversation"),
        ("MTOPIntentClassification", MtebTaskType.Classification, "Classify the intent of the given utterance in task-oriented conversation"),
        ("ToxicConversationsClassification", MtebTaskType.Classification, "Classify the given comments as either toxic or not toxic"),
        ("TweetSentimentExtractionClassification", MtebTaskType.Classification, "Classify the sentiment of a given tweet as either positive, negative, or neutral"),
        ("TNews", MtebTaskType.Classification, "Classify the fine-grained category of the given news title"),
        ("IFlyTek", MtebTaskType.Classification, "Given an App description text, find the appropriate fine-grained category"),
        ("MultilingualSentiment", MtebTaskType.Classification, "Classify sentiment of the customer review into positive, neutral, or negative"),
        ("JDReview", MtebTaskType.Classification, "Classify the customer review for iPhone on e-commerce platform into positive or negative"),
        ("OnlineShopping", MtebTaskType.Classification, "Classify the customer review for online shopping into positive or negative"),
        ("Waimai", MtebTaskType.Classification, "Classify the customer review from a food takeaway platform into positive or negative"),

        ("ArxivClusteringP2P", MtebTaskType.Clustering, "Identify the main and secondary category of Arxiv papers based on the titles and abstracts"),
        ("ArxivClusteringS2S", MtebTaskType.Clustering, "Identify the main and secondary category of Arxiv papers based on the titles"),
        ("BiorxivClusteringP2P", MtebTaskType.Clustering, "Identify the main category of Biorxiv papers based on the titles and abstracts"),
        ("BiorxivClusteringS2S", MtebTaskType.Clustering, "Identify the main category of Biorxiv papers based on the titles"),
        ("MedrxivClusteringP2P", MtebTaskType.Clustering, "Identify the main category of Medrxiv papers based on the titles and abstracts"),
        ("MedrxivClusteringS2S", MtebTaskType.Clustering, "Identify the main category of Medrxiv papers based on the titles"),
        ("RedditClustering", MtebTaskType.Clustering, "Identify the topic or theme of Reddit posts based on the titles"),
        ("RedditClusteringP2P", MtebTaskType.Clustering, "Identify the topic or theme of Reddit posts based on the titles and posts"),
        ("StackExchangeClustering", MtebTaskType.Clustering, "Identify the topic or theme of StackExchange posts based on the titles"),
        ("StackExchangeClusteringP2P", MtebTaskType.Clustering, "Identify the topic or theme of StackExchange posts based on the given paragraphs"),
        ("TwentyNewsgroupsClustering", MtebTaskType.Clustering, "Identify the topic or theme of the given news articles"),
        ("CLSClusteringS2S", MtebTaskType.Clustering, "Identify the main category of scholar papers based on the titles"),
        ("CLSClusteringP2P", MtebTaskType.Clustering, "Identify the main category of scholar papers based on the titles and abstracts"),
        ("ThuNewsClusteringS2S", MtebTaskType.Clustering, "Identify the topic or theme of the given news articles based on the titles"),
        ("ThuNewsClusteringP2P", MtebTaskType.Clustering, "Identify the topic or theme of the given news articles based on the titles and contents"),

        ("AskUbuntuDupQuestions", MtebTaskType.Reranking, "Retrieve duplicate questions from AskUbuntu forum"),
        ("MindSmallReranking", MtebTaskType.Reranking, "Retrieve relevant news articles based on user browsing history"),
        ("SciDocsRR", MtebTaskType.Reranking, "Given a title of a scientific paper, retrieve the titles of other relevant papers"),
        ("StackOverflowDupQuestions", MtebTaskType.Reranking, "Retrieve duplicate questions from StackOverflow forum"),
        ("T2Reranking", MtebTaskType.Reranking, "Given a Chinese search query, retrieve web passages that answer the question"),
        ("MMarcoReranking", MtebTaskType.Reranking, "Given a Chinese search query, retrieve web passages that answer the question"),
        ("CMedQAv1", MtebTaskType.Reranking, "Given a Chinese community medical question, retrieve replies that best answer the question"),
        ("CMedQAv2", MtebTaskType.Reranking, "Given a Chinese community medical question, retrieve replies that best answer the question"),
        ("SprintDuplicateQuestions", MtebTaskType.PairClassification, "Retrieve duplicate questions from Sprint forum"),
        ("TwitterSemEval2015", MtebTaskType.PairClassification, "Retrieve tweets that are semantically similar to the given tweet"),
        ("TwitterURLCorpus", MtebTaskType.PairClassification, "Retrieve tweets that are semantically similar to the given tweet"),
        ("Ocnli", MtebTaskType.PairClassification, "Retrieve semantically similar text."),
        ("Cmnli", MtebTaskType.PairClassification, "Retrieve semantically similar text."),

        ("ArguAna", MtebTaskType.Retrieval, "Given a claim, find documents that refute the claim"),
        ("ClimateFEVER", MtebTaskType.Retrieval, "Given a claim about climate change, retrieve documents that support or refute the claim"),
        ("DBPedia", MtebTaskType.Retrieval, "Given a query, retrieve relevant entity descriptions from DBPedia"),
        ("FEVER", MtebTaskType.Retrieval, "Given a claim, retrieve documents that support or refute the claim"),
        ("FiQA2018", MtebTaskType.Retrieval, "Given a financial question, retrieve user replies that best answer the question"),
        ("HotpotQA", MtebTaskType.Retrieval, "Given a multi-hop question, retrieve documents that can help answer the question"),
        ("MSMARCO", MtebTaskType.Retrieval, "Given a web search query, retrieve relevant passages that answer the query"),
        ("NFCorpus", MtebTaskType.Retrieval, "Given a question, retrieve relevant documents that best answer the question"),
        ("NQ", MtebTaskType.Retrieval, "Given a question, retrieve Wikipedia passages that answer the question"),
        ("QuoraRetrieval", MtebTaskType.Retrieval, "Given a question, retrieve questions that are semantically equivalent to the given question"),
        ("SCIDOCS", MtebTaskType.Retrieval, "Given a scientific paper title, retrieve paper abstracts that are cited by the given paper"),
        ("SciFact", MtebTaskType.Retrieval, "Given a scientific claim, retrieve documents that support or refute the claim"),
        ("Touche2020", MtebTaskType.Retrieval, "Given a question, retrieve detailed and persuasive arguments that answer the question"),
        ("TRECCOVID", MtebTaskType.Retrieval, "Given a query on COVID-19, retrieve documents that answer the query"),
        ("T2Retrieval", MtebTaskType.Retrieval, "Given a Chinese search query, retrieve web passages that answer the question"),
        ("MMarcoRetrieval", MtebTaskType.Retrieval, "Given a web search query, retrieve relevant passages that answer the query"),
        ("DuRetrieval", MtebTaskType.Retrieval, "Given a Chinese search query, retrieve web passages that answer the question"),
        ("CovidRetrieval", MtebTaskType.Retrieval, "Given a question on COVID-19, retrieve news articles that answer the question"),
        ("CmedqaRetrieval", MtebTaskType.Retrieval, "Given a Chinese community medical question, retrieve replies that best answer the question"),
        ("EcomRetrieval", MtebTaskType.Retrieval, "Given a user query from an e-commerce website, retrieve description sentences of relevant products"),
        ("MedicalRetrieval", MtebTaskType.Retrieval, "Given a medical question, retrieve user replies that best answer the question"),
        ("VideoRetrieval", MtebTaskType.Retrieval, "Given a video search query, retrieve the titles of relevant videos"),

        ("BIOSSES", MtebTaskType.Sts, Sts), ("SICK-R", MtebTaskType.Sts, Sts), ("STS12", MtebTaskType.Sts, Sts), ("STS13", MtebTaskType.Sts, Sts),
        ("STS14", MtebTaskType.Sts, Sts), ("STS15", MtebTaskType.Sts, Sts), ("STS16", MtebTaskType.Sts, Sts), ("STS17", MtebTaskType.Sts, Sts),
        ("STS22", MtebTaskType.Sts, Sts), ("STSBenchmark", MtebTaskType.Sts, Sts),
        ("SummEval", MtebTaskType.Summarization, Summarization),
        ("BUCC", MtebTaskType.BitextMining, Bitext), ("Tatoeba", MtebTaskType.BitextMining, Bitext),
    ];

    /// <summary>e5's other spellings of retrieval tasks: BEIR's folder names, and miracl.</summary>
    private static readonly (string Alias, string Name)[] RetrievalAliases =
    [
        ("trec-covid", "TRECCOVID"), ("climate-fever", "ClimateFEVER"), ("dbpedia-entity", "DBPedia"),
        ("webis-touche2020", "Touche2020"), ("fiqa", "FiQA2018"), ("quora", "QuoraRetrieval"),
    ];

    private const string Miracl = "Given a question, retrieve Wikipedia passages that answer the question";

    public static int Count => Tasks.Length;

    /// <summary>The instruction e5 gives every task of a type, where it has one (STS, Summarization, BitextMining); else null.</summary>
    public static string? TypeInstruction(MtebTaskType type) => type switch
    {
        MtebTaskType.Sts => Sts,
        MtebTaskType.Summarization => Summarization,
        MtebTaskType.BitextMining => Bitext,
        _ => null,
    };

    /// <summary>The task of that name (exact, or a retrieval alias e5 accepts), or null.</summary>
    public static MtebTask? Find(string name)
    {
        foreach (var (task, type, instruction) in Tasks)
            if (task == name) return Make(task, type, instruction);
        foreach (var (task, type, instruction) in Tasks)
            if (type == MtebTaskType.Retrieval && task.ToLowerInvariant() == name) return Make(task, type, instruction);
        foreach (var (alias, task) in RetrievalAliases)
            if (alias == name) return Find(task);
        if (name == "miracl") return new MtebTask(name, MtebTaskType.Retrieval, Miracl);
        if (name.ToLowerInvariant().StartsWith("cqadupstack", StringComparison.Ordinal)) return new MtebTask(name, MtebTaskType.Retrieval, CqaDupStack);
        return null;
    }

    private static MtebTask Make(string name, MtebTaskType type, string instruction) =>
        new(name, type, instruction) { InstructDocuments = name == "QuoraRetrieval" };
}
