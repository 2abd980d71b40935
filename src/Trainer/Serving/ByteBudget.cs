namespace Trainer.Serving;

/// <summary>
/// A cap on the request-body bytes the server holds at once (<c>--max-body-bytes-in-flight</c>): a request takes its
/// bytes before they are read and gives them back when it has been answered; one that does not fit is refused at
/// once rather than read.
/// </summary>
public sealed class ByteBudget(long limit)
{
    private long _held;

    public long Limit { get; } = limit;

    public long Held => Interlocked.Read(ref _held);

    public bool TryTake(long bytes)
    {
        long held;
        do
        {
            held = Interlocked.Read(ref _held);
            if (held + bytes > Limit) return false;
        } while (Interlocked.CompareExchange(ref _held, held + bytes, held) != held);
        return true;
    }

    public void Return(long bytes) => Interlocked.Add(ref _held, -bytes);
}
