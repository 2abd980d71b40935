using Trainer.Synthesis;

namespace Trainer.Tests.Synthesis;

public class TemplateSetTests
{
    [Fact]
    public void The_shipped_templates_render_every_group_with_no_placeholder_left()
    {
        var set = TemplateSet.Load(null, SynthGroup.All);
        Assert.Equal(10, set.Versions().Count);
        foreach (var group in SynthGroup.All)
        {
            var values = new SortedDictionary<string, string>(PlaceholderSampler.Sample(group, LanguageTable.Default(), new Random(1)), StringComparer.Ordinal) { ["task"] = "TASK" };
            string prompt = set.Generate(group).Render(values);
            Assert.DoesNotMatch(@"\{[a-z_]+\}", prompt);
            foreach (var key in group.Keys) Assert.Contains($"\"{key}\"", prompt);
            Assert.Contains("JSON object", prompt);
            if (group.Brainstorms) Assert.Contains("TASK", prompt);
            if (group.Brainstorms) Assert.DoesNotContain("JSON object", set.Brainstorm(group).Text);
        }
    }

    [Fact]
    public void A_templates_folder_replaces_them_and_its_version_follows_its_text()
    {
        var dir = TestPaths.TempDir("synth-templates");
        File.WriteAllText(Path.Combine(dir, "sts.generate.txt"), "Give a JSON object with \"S1\", \"S2\", \"S3\" in {language} ({unit}, {high_score}, {low_score}, {difficulty}).");
        var set = TemplateSet.Load(dir, [SynthGroup.Sts]);
        Assert.StartsWith("sts.generate@", set.Generate(SynthGroup.Sts).Version);
        Assert.NotEqual(TemplateSet.Load(null, [SynthGroup.Sts]).Generate(SynthGroup.Sts).Version, set.Generate(SynthGroup.Sts).Version);
        Assert.Equal("Give a JSON object with \"S1\", \"S2\", \"S3\" in Welsh (phrase, 4, 3, college).",
            set.Generate(SynthGroup.Sts).Render(new Dictionary<string, string> { ["language"] = "Welsh", ["unit"] = "phrase", ["high_score"] = "4", ["low_score"] = "3", ["difficulty"] = "college" }));
    }

    [Fact]
    public void A_missing_template_or_an_unknown_placeholder_is_named()
    {
        var dir = TestPaths.TempDir("synth-templates-bad");
        Assert.Contains("sts.generate.txt is missing", Assert.Throws<FileNotFoundException>(() => TemplateSet.Load(dir, [SynthGroup.Sts])).Message);
        File.WriteAllText(Path.Combine(dir, "sts.generate.txt"), "S1 S2 S3 in {langauge}");
        Assert.StartsWith("template sts.generate uses {langauge}, which this group does not sample", Assert.Throws<ArgumentException>(() => TemplateSet.Load(dir, [SynthGroup.Sts])).Message);
    }
}
