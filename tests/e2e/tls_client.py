#!/usr/bin/env python3
"""One or more HTTPS requests over mutual TLS for the e2e tests, where curl cannot go.

curl sends no request trailers and cannot show whether a TLS session was resumed. This client
speaks HTTP/1.1 (chunked body with trailers) itself and HTTP/2 through the `h2` package (PyPI),
reuses the TLS session from one connection to the next, and prints one JSON object per request
on stdout:

    {"status": 200, "headers": [["name", "value"], ...], "body": "...", "resumed": false}

or {"error": "..."} when no response came (handshake refused, stream reset).

The request is a JSON object on stdin:

    {"port": 10443, "ca": "bundle.pem", "cert": "leaf.pem", "key": "leaf.key",
     "http2": true, "method": "POST", "target": "/p", "headers": [["x", "y"]],
     "body": "text", "trailers": [["x-sum", "1"]], "connections": 1}

`target` may be given as `target_hex` (raw bytes). With `connections` > 1 the same request is
sent on that many connections one after the other, each resuming the previous one's session.
"""

from __future__ import annotations

import json
import socket
import ssl
import sys


def tls_context(spec: dict) -> ssl.SSLContext:
    """One context for every connection: a session resumes only in the context it came from."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(spec["ca"])
    if spec.get("cert"):
        context.load_cert_chain(spec["cert"], spec["key"])
    context.set_alpn_protocols(["h2"] if spec["http2"] else ["http/1.1"])
    return context


def connect(context: ssl.SSLContext, spec: dict, session):
    raw = socket.create_connection(("127.0.0.1", spec["port"]), timeout=20)
    tls = context.wrap_socket(raw, server_hostname="localhost", session=session)
    expected = "h2" if spec["http2"] else "http/1.1"
    if tls.selected_alpn_protocol() != expected:
        raise ssl.SSLError(f"ALPN {tls.selected_alpn_protocol()!r}, wanted {expected}")
    return tls


def target_bytes(spec: dict) -> bytes:
    if "target_hex" in spec:
        return bytes.fromhex(spec["target_hex"])
    return spec["target"].encode()


def read_all(tls) -> bytes:
    data = b""
    while True:
        try:
            chunk = tls.recv(65536)
        except (ssl.SSLZeroReturnError, ConnectionResetError):
            break
        if not chunk:
            break
        data += chunk
    return data


def http1(tls, spec: dict) -> dict:
    body = spec.get("body")
    trailers = spec.get("trailers") or []
    lines = [spec["method"].encode() + b" " + target_bytes(spec) + b" HTTP/1.1",
             f"host: localhost:{spec['port']}".encode(), b"connection: close"]
    for name, value in spec.get("headers") or []:
        lines.append(f"{name}: {value}".encode())
    chunked = bool(trailers)
    payload = (body or "").encode()
    if chunked:
        lines.append(b"transfer-encoding: chunked")
        lines.append(b"trailer: " + ", ".join(n for n, _ in trailers).encode())
    elif body is not None:
        lines.append(f"content-length: {len(payload)}".encode())
    request = b"\r\n".join(lines) + b"\r\n\r\n"
    if chunked:
        if payload:
            request += f"{len(payload):x}\r\n".encode() + payload + b"\r\n"
        request += b"0\r\n" + b"".join(f"{n}: {v}\r\n".encode() for n, v in trailers) + b"\r\n"
    else:
        request += payload
    tls.sendall(request)
    response = read_all(tls)
    head, _, rest = response.partition(b"\r\n\r\n")
    if not head:
        return {"error": "connection closed without a response"}
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = [[n.strip().lower(), v.strip()] for n, _, v in (h.partition(":") for h in header_lines)]
    length = next((int(v) for n, v in headers if n == "content-length"), None)
    body_out = rest[:length] if length is not None else rest
    return {"status": int(status_line.split(" ")[1]), "headers": headers,
            "body": body_out.decode("utf-8", "replace")}


def http2(tls, spec: dict) -> dict:
    import h2.config
    import h2.connection
    import h2.events

    connection = h2.connection.H2Connection(h2.config.H2Configuration(
        client_side=True, header_encoding=None, validate_outbound_headers=False,
        normalize_outbound_headers=False))
    connection.initiate_connection()
    stream = connection.get_next_available_stream_id()
    body = spec.get("body")
    trailers = spec.get("trailers") or []
    headers = [(b":method", spec["method"].encode()), (b":path", target_bytes(spec)),
               (b":scheme", b"https"), (b":authority", f"localhost:{spec['port']}".encode())]
    headers += [(n.encode(), v.encode()) for n, v in spec.get("headers") or []]
    if body is not None and not trailers:
        headers.append((b"content-length", str(len(body.encode())).encode()))
    ends_with_headers = body is None and not trailers
    connection.send_headers(stream, headers, end_stream=ends_with_headers)
    # Events that arrive while the body waits for flow-control window (an early answer).
    early = []
    if body is not None:
        payload = body.encode()
        while True:
            size = min(len(payload), connection.max_outbound_frame_size,
                       connection.local_flow_control_window(stream))
            if size == 0 and payload:
                tls.sendall(connection.data_to_send())
                chunk = tls.recv(65536)
                if not chunk:
                    return {"error": "connection closed while the body was sent"}
                early += connection.receive_data(chunk)
                continue
            piece, payload = payload[:size], payload[size:]
            connection.send_data(stream, piece, end_stream=not payload and not trailers)
            if not payload:
                break
    if trailers:
        connection.send_headers(stream, [(n.encode(), v.encode()) for n, v in trailers],
                                end_stream=True)
    tls.sendall(connection.data_to_send())
    status, response_headers, data = None, [], b""
    while True:
        if early:
            events, early = early, []
        else:
            chunk = tls.recv(65536)
            if not chunk:
                break
            events = connection.receive_data(chunk)
        for event in events:
            if isinstance(event, h2.events.ResponseReceived):
                for name, value in event.headers:
                    if name == b":status":
                        status = int(value)
                    else:
                        response_headers.append([name.decode(), value.decode("latin-1")])
            elif isinstance(event, h2.events.DataReceived):
                data += event.data
                connection.acknowledge_received_data(event.flow_controlled_length, stream)
            elif isinstance(event, h2.events.StreamReset):
                return {"error": f"stream reset ({event.error_code})"}
            elif isinstance(event, h2.events.StreamEnded):
                tls.sendall(connection.data_to_send())
                return {"status": status, "headers": response_headers,
                        "body": data.decode("utf-8", "replace")}
        tls.sendall(connection.data_to_send())
    return {"error": "connection closed without a response"}


def one(context: ssl.SSLContext, spec: dict, session):
    try:
        tls = connect(context, spec, session)
    except (ssl.SSLError, OSError) as err:
        return {"error": f"TLS: {err}"}, None
    try:
        result = (http2 if spec["http2"] else http1)(tls, spec)
    except (ssl.SSLError, OSError) as err:
        result = {"error": f"I/O: {err}"}
    result["resumed"] = tls.session_reused
    session = tls.session
    tls.close()
    return result, session


def main() -> int:
    spec = json.load(sys.stdin)
    context = tls_context(spec)
    session = None
    for _ in range(spec.get("connections", 1)):
        result, session = one(context, spec, session)
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
