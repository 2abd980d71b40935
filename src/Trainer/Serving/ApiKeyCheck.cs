using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Trainer.Serving;

/// <summary>
/// With <c>--api-key</c>: every request but <c>GET/HEAD /health</c> and CORS preflights must carry
/// <c>Authorization: Bearer KEY</c>; others get 401 <c>invalid_api_key</c> in the JSON error shape. The comparison takes
/// the same time whatever the first wrong byte.
/// </summary>
public sealed class ApiKeyCheck(string key)
{
    private readonly byte[] _expected = Encoding.UTF8.GetBytes("Bearer " + key);

    public bool Allows(HttpRequest request)
    {
        if (request.Path == "/health" || HttpMethods.IsOptions(request.Method)) return true;
        var given = Encoding.UTF8.GetBytes(request.Headers.Authorization.ToString());
        return CryptographicOperations.FixedTimeEquals(given, _expected);
    }

    public static ApiError Refusal(HttpRequest request) => new(401, "invalid_api_key",
        request.Headers.Authorization.Count == 0
            ? "This server needs an API key: send it as the header Authorization: Bearer KEY (OpenAI clients: api_key=KEY)."
            : "The API key is wrong: send the server's --api-key as Authorization: Bearer KEY.");
}
