#!/usr/bin/env python3
"""Several requests on ONE HTTP/2 connection over mutual TLS, spaced by the caller (issue 13:
a revocation must reach a connection opened before it).

The connection spec is a JSON object in argv[1]: {"port", "ca", "cert", "key"}. Then each
line on stdin is a request target, or a JSON object {"target", "headers": [[name, value]]} for
a request with more headers (a token); the request goes out as GET on a new stream of the same
connection and one JSON line comes back on stdout: {"status", "body", "stream"} or
{"error"}. The connection is never reopened: if it breaks, every later line answers an error.
"""

from __future__ import annotations

import json
import socket
import ssl
import sys

import h2.config
import h2.connection
import h2.events


def main() -> int:
    spec = json.loads(sys.argv[1])
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(spec["ca"])
    context.load_cert_chain(spec["cert"], spec["key"])
    context.set_alpn_protocols(["h2"])
    raw = socket.create_connection(("127.0.0.1", spec["port"]), timeout=20)
    tls = context.wrap_socket(raw, server_hostname="localhost")
    if tls.selected_alpn_protocol() != "h2":
        print(json.dumps({"error": f"ALPN {tls.selected_alpn_protocol()!r}"}), flush=True)
        return 1
    connection = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    connection.initiate_connection()
    tls.sendall(connection.data_to_send())
    for line in sys.stdin:
        target, headers = line.strip(), []
        if not target:
            continue
        if target.startswith("{"):
            asked = json.loads(target)
            target, headers = asked["target"], [tuple(h) for h in asked.get("headers", [])]
        print(json.dumps(request(tls, connection, spec["port"], target, headers)), flush=True)
    return 0


def request(tls, connection, port: int, target: str, headers: list) -> dict:
    stream = connection.get_next_available_stream_id()
    connection.send_headers(stream, [(":method", "GET"), (":path", target), (":scheme", "https"),
                                     (":authority", f"localhost:{port}")] + headers, end_stream=True)
    tls.sendall(connection.data_to_send())
    status, data = None, b""
    try:
        while True:
            chunk = tls.recv(65536)
            if not chunk:
                return {"error": "connection closed"}
            for event in connection.receive_data(chunk):
                if isinstance(event, h2.events.ResponseReceived) and event.stream_id == stream:
                    status = int(dict(event.headers)[b":status"])
                elif isinstance(event, h2.events.DataReceived) and event.stream_id == stream:
                    data += event.data
                    connection.acknowledge_received_data(event.flow_controlled_length, stream)
                elif isinstance(event, h2.events.StreamReset) and event.stream_id == stream:
                    return {"error": f"stream reset ({event.error_code})"}
                elif isinstance(event, h2.events.StreamEnded) and event.stream_id == stream:
                    tls.sendall(connection.data_to_send())
                    return {"status": status, "body": data.decode("utf-8", "replace"),
                            "stream": stream}
            tls.sendall(connection.data_to_send())
    except (ssl.SSLError, OSError) as err:
        return {"error": f"I/O: {err}"}


if __name__ == "__main__":
    sys.exit(main())
