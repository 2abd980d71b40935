using static TorchSharp.torch;

namespace Trainer.Models;

/// <summary>A random generator's state as plain bytes, to save, replay (checkpointing, GradCache) and restore (resume).</summary>
public static class GeneratorState
{
    public static byte[] Get(Generator generator)
    {
        using var state = generator.get_state();
        return state.bytes.ToArray();
    }

    public static void Set(Generator generator, byte[] state)
    {
        using var t = tensor(state);
        generator.set_state(t);
    }
}
