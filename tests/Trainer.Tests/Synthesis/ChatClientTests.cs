using Trainer.Synthesis;

namespace Trainer.Tests.Synthesis;

public class ChatClientTests
{
    [Theory]
    [InlineData("http://localhost:8000/v1", "http://localhost:8000/v1/chat/completions")]
    [InlineData("http://localhost:11434/v1/", "http://localhost:11434/v1/chat/completions")]
    [InlineData("https://res.openai.azure.com/openai/v1?api-version=preview", "https://res.openai.azure.com/openai/v1/chat/completions?api-version=preview")]
    public void Requests_go_to_base_slash_chat_completions_keeping_a_query(string baseUrl, string expected) =>
        Assert.Equal(expected, ChatClient.Endpoint(ChatClient.NormalizeBase(baseUrl), "chat/completions").ToString());

    [Theory]
    [InlineData("localhost:8000/v1")]
    [InlineData("ftp://host/v1")]
    [InlineData("")]
    public void A_base_url_that_is_not_http_is_refused_in_one_line(string baseUrl) =>
        Assert.StartsWith("--base-url: expected an http(s) URL such as http://localhost:8000/v1, got", Assert.Throws<ArgumentException>(() => ChatClient.NormalizeBase(baseUrl)).Message);
}
