using System.CommandLine;
using Trainer.Export;

namespace Trainer.Cli;

/// <summary><c>trainer export --checkpoint DIR --format onnx|safetensors --output DIR [--dtype] [--opset] [--external-data] [--base-model DIR] [--overwrite]</c>.</summary>
public static class ExportCommand
{
    public static Command Build()
    {
        var checkpoint = new Option<string>("--checkpoint") { Required = true, Description = "A checkpoint-<step> folder, or an output_dir (its newest valid checkpoint)" };
        var format = new Option<string[]>("--format") { Required = true, Description = "onnx and/or safetensors (repeatable)" };
        var output = new Option<string>("--output") { Required = true, Description = "Folder for the exported model" };
        var dtype = new Option<string>("--dtype") { DefaultValueFactory = _ => "float32", Description = "float32 or float16" };
        var opset = new Option<int>("--opset") { DefaultValueFactory = _ => 17, Description = "ONNX opset (14-21)" };
        var external = new Option<bool>("--external-data") { Description = "Put ONNX weights in model.onnx_data even when small" };
        var baseModel = new Option<string?>("--base-model") { Description = "The checkpoint's base model folder, when the path its config.yaml records (as written, or relative to the checkpoint) does not resolve" };
        var overwrite = new Option<bool>("--overwrite") { Description = "Replace an earlier export in --output (never a folder that trainer export did not write)" };
        var command = new Command("export", "Merge a checkpoint's LoRA adapter into the base model and export it.") { checkpoint, format, output, dtype, opset, external, baseModel, overwrite };
        command.SetAction(r => CliErrors.Run(() =>
        {
            var result = ExportJob.Run(new ExportOptions(r.GetValue(checkpoint)!, r.GetValue(format)!, r.GetValue(output)!)
            {
                DType = r.GetValue(dtype)!,
                Opset = r.GetValue(opset),
                ExternalData = r.GetValue(external),
                Overwrite = r.GetValue(overwrite),
                BaseModel = r.GetValue(baseModel),
            }, Console.Out);
            return result.Passed ? 0 : 2;
        }));
        return command;
    }
}
