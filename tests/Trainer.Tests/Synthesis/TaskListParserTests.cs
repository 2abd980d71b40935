using Trainer.Synthesis;

namespace Trainer.Tests.Synthesis;

public class TaskListParserTests
{
    [Fact]
    public void A_json_array_after_prose_and_with_a_trailing_comma_is_read() =>
        Assert.Equal(["Find A", "Find B"], TaskListParser.Parse("Here are tasks:\n[\"Find A\", \"Find B\",]\nDone."));

    [Fact]
    public void A_json_object_holding_the_list_is_read() =>
        Assert.Equal(["Find A", "Find B"], TaskListParser.Parse("{\"tasks\": [\"Find A\", \"Find B\"]}"));

    [Fact]
    public void A_python_list_with_single_quotes_is_read_escapes_included() =>
        Assert.Equal(["Retrieve a user's notes", "Find \"quoted\" text", "Tab\there"],
            TaskListParser.Parse("['Retrieve a user\\'s notes', \"Find \\\"quoted\\\" text\", 'Tab\\there',]"));

    [Fact]
    public void A_python_list_is_never_evaluated() =>
        Assert.Equal(["__import__('os').system('rm -rf /')"], TaskListParser.Parse("[\"__import__('os').system('rm -rf /')\"]"));

    [Fact]
    public void Lines_of_quoted_strings_are_read() =>
        Assert.Equal(["Find A", "Find B"], TaskListParser.Parse("\"Find A\",\n\"Find B\"\n"));

    [Fact]
    public void Bullet_and_numbered_lines_are_read_and_markup_stripped() =>
        Assert.Equal(["Find A", "Find B", "Find C", "Find D"],
            TaskListParser.Parse("Some tasks:\n- Find A\n2. **Find B**\n* \"Find C\"\n(4) Find D\nThat is all."));

    [Fact]
    public void Exact_duplicates_and_blanks_are_dropped_first_kept() =>
        Assert.Equal(["Find A", "find a", "Find B"], TaskListParser.Parse("[\"Find A\", \"find a\", \"\", \"Find A\", \"Find B\"]"));

    [Fact]
    public void Prose_without_a_list_gives_no_task() => Assert.Empty(TaskListParser.Parse("I cannot help with that."));
}
