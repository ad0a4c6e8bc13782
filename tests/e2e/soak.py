#!/usr/bin/env python3
"""Soak load for tests/e2e/tests/soak.rs: many client certificates cycling through the filter's
identity cache, mixed allow/deny traffic, HTTP/1.1 and HTTP/2, for a fixed time.

Reads one JSON object on stdin:

    {"port": 10443, "ca": "bundle.pem", "certs": ["c0.pem", ...], "key": "client.key",
     "seconds": 60, "threads": 6}

Each thread takes certificates in turn (thread t: t, t+threads, ...), opens a connection with
it (even certificate numbers HTTP/1.1, odd HTTP/2) and sends the REQUESTS on it. Prints one JSON
object: requests sent, answers by status, errors, and every (certificate, request) whose answer
changed from the first one seen, with the times (seconds from the start).
"""

from __future__ import annotations

import json
import socket
import ssl
import sys
import threading
import time

# (method, target, expected status) for a clinician of the healthcare policy.
REQUESTS = [
    ("GET", "/patient-records/7", 200),
    ("DELETE", "/patient-records/7", 403),
    ("GET", "/admin/users", 403),
    ("GET", "/patient-records/a%2fb", 400),
]


def context(spec: dict, cert: str, alpn: str) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(spec["ca"])
    ctx.load_cert_chain(cert, spec["key"])
    ctx.set_alpn_protocols([alpn])
    return ctx


def http1(tls) -> list[int]:
    statuses, buffer = [], b""
    for method, target, _ in REQUESTS:
        tls.sendall(f"{method} {target} HTTP/1.1\r\nhost: localhost\r\n\r\n".encode())
        while b"\r\n\r\n" not in buffer:
            chunk = tls.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            buffer += chunk
        head, _, buffer = buffer.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value.strip())
        while len(buffer) < length:
            chunk = tls.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            buffer += chunk
        buffer = buffer[length:]
        statuses.append(int(lines[0].split(" ")[1]))
    return statuses


def http2(tls) -> list[int]:
    import h2.config
    import h2.connection
    import h2.events

    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True,
                                                                 header_encoding=None))
    conn.initiate_connection()
    statuses = []
    for method, target, _ in REQUESTS:
        stream = conn.get_next_available_stream_id()
        conn.send_headers(stream, [(b":method", method.encode()), (b":path", target.encode()),
                                   (b":scheme", b"https"), (b":authority", b"localhost")],
                          end_stream=True)
        tls.sendall(conn.data_to_send())
        status, done = None, False
        while not done:
            chunk = tls.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            for event in conn.receive_data(chunk):
                if isinstance(event, h2.events.ResponseReceived) and event.stream_id == stream:
                    status = int(dict(event.headers)[b":status"])
                elif isinstance(event, h2.events.DataReceived):
                    conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                elif isinstance(event, (h2.events.StreamEnded, h2.events.StreamReset)) \
                        and event.stream_id == stream:
                    done = True
            tls.sendall(conn.data_to_send())
        statuses.append(status)
    return statuses


def main() -> int:
    spec = json.load(sys.stdin)
    certs, threads = spec["certs"], spec.get("threads", 6)
    started = time.monotonic()
    deadline = started + spec["seconds"]
    lock = threading.Lock()
    first: dict = {}
    totals = {"sent": 0, "by_status": {}, "errors": 0, "changes": [], "connections": 0,
              "h1_requests": 0, "h2_requests": 0, "wrong_status": 0}

    def worker(offset: int) -> None:
        index = offset
        while time.monotonic() < deadline:
            number = index % len(certs)
            index += threads
            alpn = "http/1.1" if number % 2 == 0 else "h2"
            try:
                raw = socket.create_connection(("127.0.0.1", spec["port"]), timeout=10)
                tls = context(spec, certs[number], alpn).wrap_socket(
                    raw, server_hostname="localhost")
                statuses = (http1 if alpn == "http/1.1" else http2)(tls)
                tls.close()
            except Exception as err:  # noqa: BLE001 - counted, the test fails on any
                with lock:
                    totals["errors"] += 1
                    if totals["errors"] <= 5:
                        sys.stderr.write(f"soak: {type(err).__name__}: {err}\n")
                continue
            now = round(time.monotonic() - started, 1)
            with lock:
                totals["connections"] += 1
                for (method, target, expected), status in zip(REQUESTS, statuses):
                    totals["sent"] += 1
                    totals["h1_requests" if alpn == "http/1.1" else "h2_requests"] += 1
                    key = f"{status}"
                    totals["by_status"][key] = totals["by_status"].get(key, 0) + 1
                    if status != expected:
                        totals["wrong_status"] += 1
                    seen = first.setdefault((number, method, target), (status, now))
                    if seen[0] != status and len(totals["changes"]) < 20:
                        totals["changes"].append([number, method, target, seen, [status, now]])

    workers = [threading.Thread(target=worker, args=(t,)) for t in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    totals["distinct_keys"] = len(first)
    totals["seconds"] = round(time.monotonic() - started, 1)
    print(json.dumps(totals))
    return 0


if __name__ == "__main__":
    sys.exit(main())
