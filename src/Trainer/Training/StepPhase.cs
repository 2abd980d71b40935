namespace Trainer.Training;

/// <summary>
/// The phases of a training step that an <see cref="IStepTimer"/> hears about, in the order a report lists them.
/// A step without GradCache runs Tokenize, ZeroGrad, (PadAndCopy, Forward*) per padding group, Loss, Backward,
/// ClipAndRead, OptimizerStep; with GradCache, (PadAndCopy, EmbedWithoutGraph) per micro-batch, Loss,
/// EmbeddingGradients, then (PadAndCopy, RecomputeForward, RecomputeBackward) per micro-batch.
/// </summary>
public enum StepPhase
{
    /// <summary>Tokenizing the step's rows (<see cref="ContrastiveBatch.Build"/>), on the host.</summary>
    Tokenize,

    /// <summary>Padding one forward's rows and copying them to the device (<see cref="Models.EmbeddingPass.Pad"/>); once per forward.</summary>
    PadAndCopy,

    /// <summary>The forward of all rows as one padded batch (the queries and the documents are as long).</summary>
    ForwardAllRows,

    /// <summary>The forward of the queries, padded on their own (<see cref="ContrastiveBatch.PaddingGroups"/>).</summary>
    ForwardQueries,

    /// <summary>The forward of the documents [positives; negatives], padded on their own.</summary>
    ForwardDocuments,

    /// <summary>GradCache stage 1: one micro-batch embedded without a graph.</summary>
    EmbedWithoutGraph,

    /// <summary>InfoNCE on the gathered embeddings: similarities and cross-entropy.</summary>
    Loss,

    /// <summary>The backward through the whole step (with gradient checkpointing, each layer's recompute included).</summary>
    Backward,

    /// <summary>GradCache stage 2: the backward from the loss to the embeddings.</summary>
    EmbeddingGradients,

    /// <summary>GradCache stage 3: one micro-batch's forward again, with a graph.</summary>
    RecomputeForward,

    /// <summary>GradCache stage 3: that micro-batch's backward with its cached embedding gradients.</summary>
    RecomputeBackward,

    /// <summary>Gradient clipping (<see cref="GradientClipping"/>) and the one host read of the loss and the gradient norm.</summary>
    ClipAndRead,

    /// <summary>Zeroing the gradients, at the start of the step (after tokenizing).</summary>
    ZeroGrad,

    /// <summary>The optimizer step (and the copy of the adapters to the other replicas).</summary>
    OptimizerStep,
}
