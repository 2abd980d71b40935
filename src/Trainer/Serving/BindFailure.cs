using System.Net.Sockets;

namespace Trainer.Serving;

/// <summary>Why Kestrel could not listen, in words a user can act on; null when the exception is not a bind failure.</summary>
public static class BindFailure
{
    public static string? Reason(Exception error)
    {
        for (var e = error; e is not null; e = e.InnerException)
        {
            if (e is SocketException socket)
                return socket.SocketErrorCode switch
                {
                    SocketError.AddressAlreadyInUse => "the port is in use by another process; pick another --port (0 picks a free one)",
                    SocketError.AddressNotAvailable => "the address is not an address of this machine; use 127.0.0.1, 0.0.0.0 or one of its interfaces' addresses",
                    SocketError.AccessDenied => "permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE); use a port of 1024 or more",
                    _ => $"{socket.Message} ({socket.SocketErrorCode})",
                };
            if (e is Microsoft.AspNetCore.Connections.AddressInUseException)
                return "the port is in use by another process; pick another --port (0 picks a free one)";
        }
        return error is IOException ? error.Message : null;
    }
}
