using System.Net.Sockets;
using System.Text;
using static Trainer.Tests.Serving.ServingHttp;

namespace Trainer.Tests.Serving;

/// <summary>
/// A request takes a concurrency slot only once its body has arrived and parsed: uploads that trickle in do not lock
/// other clients out, and a body that does not arrive in time is answered 408 with the JSON error.
/// </summary>
[Collection(ServingCollection.Name)]
public class ServingSlowBodyTests(ServingFixture fixture)
{
    [Fact]
    public async Task Slow_uploads_do_not_hold_concurrency_slots()
    {
        await using var server = await ServingFixture.StartAsync(fixture.Options() with { MaxConcurrentRequests = 1 });
        var uploads = new List<TcpClient>();
        try
        {
            for (int i = 0; i < 3; i++) uploads.Add(await StartUpload(server.Address, "{\"inputs\": \"half a bo"));
            await Task.Delay(300, TestContext.Current.CancellationToken); // the server has read their headers and waits for the rest
            var normal = await PostAsync(server.Address, "/embed", new { inputs = fixture.Documents[0] });
            Assert.Equal(200, normal.Status);
            AssertClose([fixture.Export.Documents[0]], TeiVectors(normal.Json), 1e-5, "the request beside three slow uploads");
        }
        finally
        {
            foreach (var upload in uploads) upload.Dispose();
        }
    }

    [Fact]
    public async Task A_body_that_does_not_arrive_in_time_gets_a_408_json_error()
    {
        await using var server = await ServingFixture.StartAsync(fixture.Options() with { BodyTimeoutSeconds = 1 });
        using var upload = await StartUpload(server.Address, "{\"inputs\": \"never fini");
        var answer = await ReadAnswer(upload, TimeSpan.FromSeconds(20));
        Assert.StartsWith("HTTP/1.1 408", answer);
        Assert.Contains("\"code\":\"body_timeout\"", answer);
        Assert.Contains("--body-timeout-seconds", answer);
        Assert.Equal(200, (await PostAsync(server.Address, "/embed", new { inputs = "the next one" })).Status);
    }

    /// <summary>What the server answered on the connection, until it closes it or the time is up.</summary>
    internal static async Task<string> ReadAnswer(TcpClient client, TimeSpan timeout)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(timeout);
        var text = new StringBuilder();
        var buffer = new byte[4096];
        try
        {
            int read;
            while ((read = await client.GetStream().ReadAsync(buffer, cts.Token)) > 0)
            {
                text.Append(Encoding.UTF8.GetString(buffer, 0, read));
                if (text.ToString().Contains("\"error\"") && text.ToString().TrimEnd().EndsWith('}')) break;
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (IOException)
        {
        }
        return text.ToString();
    }

    /// <summary>Sends the headers of a request announcing 1000 bytes of body, and only the first part of it.</summary>
    internal static async Task<TcpClient> StartUpload(Uri server, string partialBody)
    {
        var client = new TcpClient();
        await client.ConnectAsync(server.Host, server.Port, TestContext.Current.CancellationToken);
        var head = $"POST /embed HTTP/1.1\r\nHost: {server.Authority}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{partialBody}";
        await client.GetStream().WriteAsync(Encoding.ASCII.GetBytes(head), TestContext.Current.CancellationToken);
        return client;
    }
}
