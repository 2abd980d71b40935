using Trainer.Models.Lora;

namespace Trainer.Models;

/// <summary>A dropout generator's state as plain bytes, to save, replay (checkpointing, GradCache) and restore (resume).</summary>
public static class GeneratorState
{
    public static byte[] Get(DropoutGenerator generator) => generator.GetState();

    public static void Set(DropoutGenerator generator, byte[] state) => generator.SetState(state);
}
