using static TorchSharp.torch;

namespace Trainer.Parallel;

/// <summary>World size 1: every collective is the identity, and nothing is timed.</summary>
public sealed class SingleProcess : ICommunicator
{
    public static SingleProcess Instance { get; } = new();

    public int Rank => 0;

    public int Size => 1;

    public string Engine => "none";

    public CommunicationTimes Times { get; } = new();

    public Tensor AllGather(Tensor local, IReadOnlyList<long> rows) => local.alias();

    public void AllReduceSum(Tensor buffer)
    {
    }

    public void Broadcast(Tensor buffer, int root)
    {
    }

    public void Barrier()
    {
    }

    public void Abort(int code) => Environment.Exit(code);

    public void Dispose()
    {
    }
}
