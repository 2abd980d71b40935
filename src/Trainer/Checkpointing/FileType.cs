namespace Trainer.Checkpointing;

/// <summary>What a path names, as <c>stat</c> tells it (<see cref="FileStat"/>); <see cref="None"/> when nothing is there.</summary>
public enum FileType
{
    None,
    Regular,
    Directory,
    SymbolicLink,
    Fifo,
    CharacterDevice,
    BlockDevice,
    Socket,
}
