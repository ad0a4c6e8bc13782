#!/usr/bin/env python3
"""Differential path normalisation: many request-targets, sent byte for byte to several proxy
listeners (Envoy, NGINX) over mutual TLS, and what each answered or forwarded to the echo
upstream.

Used by tests/e2e/tests/path_diff.rs (which starts the proxies and judges the results) and by
hand for the long run (see tests/e2e/README.md). Reads one JSON object on stdin:

    {"ca": "bundle.pem", "cert": "leaf.pem", "key": "leaf.key",
     "listeners": {"label": port, ...}, "count": 2000, "seed": 15, "protocols": ["h1", "h2"],
     "echo_header": "x-nginx-uri"}

and prints JSON lines on stdout: first {"targets": [hex, ...]} (the generated targets, the
same for the same count and seed), then one line per (listener, protocol, target):

    {"l": label, "p": "h1", "i": 17, "status": 200, "upstream": hex or null,
     "header": str or null, "location": str or null, "error": str or null}

`upstream` is the request-target the echo upstream received (from its `x-echo-json` header),
null when the request never reached it; `header` the value of the request header named by the
optional `echo_header` as the upstream received it (NGINX: its own reading of the path).
HTTP/1.1 requests share keep-alive connections; HTTP/2 requests are streams on one connection;
a connection the proxy closed is reopened.
"""

from __future__ import annotations

import json
import random
import socket
import ssl
import sys
import threading
import time

# Seconds to wait for an answer: Envoy answers every target at once or closes; a target it
# waits on (an incomplete request line) is recorded as an error after this.
TIMEOUT = 5

# Pieces a segment is made of: every spelling of the characters that path confusion plays
# with. Deterministic: the generator only draws from these lists with a seeded PRNG.
DOTS = [".", "%2e", "%2E", "%252e", "%252E", "%c0%ae", "%C0%AE", "%e0%80%ae", "%EF%BC%8E",
        "%u002e", "%%32%65", "%2%65"]
SEPARATORS = ["%2f", "%2F", "%5c", "%5C", "\\", "%252f", "%252F", "%255c", "%c0%af", "%C0%AF",
              "%e0%80%af", "%c1%9c", "%C1%9C", "%EF%BC%8F", "%u2215"]
PARAMS = [";", ";x=1", ";jsessionid=a", "%3b", "%3B", "%253b"]
ESCAPES = ["%25", "%2525", "%", "%z1", "%4", "%61", "%41", "%7e", "%7E", "%2d", "%5f", "%30",
           "%C3%A9", "%c3%a9", "%E2%82%AC", "%F0%9F%98%80", "%FF", "%C3", "%ED%A0%80",
           "%F4%90%80%80", "%00", "%01", "%09", "%0a", "%0D", "%1f", "%7f", "%7F", "%20", "%23",
           "%3f", "%3F", "%40", "%2b"]
RAW = ["\u00e9", "\t", "\x01", "\x7f", " ", "\"", "<", "{", "|", "^", "`", "@", ":", "!", "$",
       "&", "'", "(", "*", "+", ",", "=", "~", "-", "_"]
WORDS = ["a", "b", "admin", "public", "api", "v1", "x", "A", "ADMIN"]
SUFFIXES = ["", "", "", "", "?q=1", "?a=%2e%2e/../b", "?", "?x=%2F#y", "#frag", "#", "?#",
            "#/../admin", "?q=a b", "?_=\\", "?%00", "/", "//", "/.", "/..", "/%2e", "?q=1/../x"]
PREFIXES = ["/", "/", "/", "/", "//", "///", "/./", "/../", "/%2e%2e/", "\\", "/\\",
            "http://localhost/", "https://localhost:1/", "*", ""]

# Targets every run starts with: the classic bypasses, by hand.
CLASSIC = [
    "/admin", "/%61dmin", "/ADMIN", "/public/../admin", "/public/%2e%2e/admin",
    "/public/%2E%2E/admin", "/public/.%2e/admin", "/public/%2e./admin", "/public/..%2fadmin",
    "/public/..%2Fadmin", "/public%2f..%2fadmin", "/public/..%5cadmin", "/public/..\\admin",
    "/admin;x", "/admin;/x", "/public;/../admin", "//admin", "/public//../admin", "/./admin",
    "/admin/.", "/admin/..", "/admin/%2e", "/%2e%2e/admin", "/../admin", "/public/%252e%252e/admin",
    "/public/%c0%ae%c0%ae/admin", "/public/%EF%BC%8E%EF%BC%8E/admin", "/admin%00", "/admin%00.js",
    "/admin#x", "/public#/../admin", "/public?/../admin", "/admin/%20", "/a/b/c/../../..",
    "/a/b/../../../admin", "/%2fadmin", "/%5cadmin", "/admin%2f", "/admin%2F..%2F",
    "/a%25%32%65%25%32%65/admin", "/admin\t", "/a/./b/../c//d/", "/%7eadmin", "/~admin",
    "http://localhost/public/../admin", "http://localhost/%2e%2e/admin", "*",
]


# Half the targets are "mild": only spellings a normaliser must resolve rather than refuse
# (dots raw or %2e in any case, unreserved and other valid escapes, sub-delimiters, repeated
# slashes), so that most of them are forwarded and the forwarded paths can be compared.
MILD_DOTS = [".", "%2e", "%2E"]
MILD_ESCAPES = ["%61", "%41", "%7e", "%7E", "%2d", "%5f", "%30", "%C3%A9", "%c3%a9", "%E2%82%AC",
                "%20", "%40", "%2b", "%3f", "%23", "%25", "%3A"]
MILD_RAW = ["~", "-", "_", "@", ":", "!", "$", "&", "'", "(", ")", "*", "+", ",", "="]
MILD_PREFIXES = ["/", "/", "/", "//", "/./", "/../", "http://localhost/"]
MILD_SUFFIXES = ["", "", "", "/", "//", "/.", "/..", "/%2e", "?q=1", "?a=%2e%2e/../b", "?",
                 "#frag", "#/../admin", "?x=%2F#y"]


def segment(rng: random.Random, mild: bool) -> str:
    if rng.random() < 0.25:
        # A dot segment: one to three dots, each spelled independently.
        return "".join(rng.choice(MILD_DOTS if mild else DOTS)
                       for _ in range(rng.choice([1, 2, 2, 3])))
    pieces = []
    for _ in range(rng.randint(1, 3)):
        pick = rng.random()
        if mild:
            pool = WORDS if pick < 0.6 else MILD_ESCAPES if pick < 0.8 else MILD_RAW \
                if pick < 0.9 else MILD_DOTS
        else:
            pool = WORDS if pick < 0.35 else SEPARATORS if pick < 0.5 else PARAMS \
                if pick < 0.6 else ESCAPES if pick < 0.8 else RAW if pick < 0.9 else DOTS
        pieces.append(rng.choice(pool))
    return "".join(pieces)


def target(rng: random.Random) -> bytes:
    mild = rng.random() < 0.5
    segments = [segment(rng, mild) if rng.random() < 0.85 else ""
                for _ in range(rng.randint(1, 5))]
    joiner = rng.choice(["/"] * 8 + ["//", "/./"] + ([] if mild else ["\\"]))
    prefix = rng.choice(MILD_PREFIXES if mild else PREFIXES)
    suffix = rng.choice(MILD_SUFFIXES if mild else SUFFIXES)
    return (prefix + joiner.join(segments) + suffix).encode("utf-8")


def targets(count: int, seed: int) -> list[bytes]:
    rng = random.Random(seed)
    out = [t.encode() for t in CLASSIC][:count]
    seen = set(out)
    while len(out) < count:
        candidate = target(rng)
        if candidate not in seen:
            seen.add(candidate)
            out.append(candidate)
    return out


def tls_context(spec: dict, alpn: str) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(spec["ca"])
    context.load_cert_chain(spec["cert"], spec["key"])
    context.set_alpn_protocols([alpn])
    return context


def connect(context: ssl.SSLContext, port: int):
    raw = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
    return context.wrap_socket(raw, server_hostname="localhost")


def upstream_of(headers: list, echo_header: str | None) -> tuple[str | None, str | None]:
    """The request-target (hex) the upstream received, and its `echo_header` value."""
    for name, value in headers:
        if name == "x-echo-json":
            echo = json.loads(bytes.fromhex(value))
            found = [v for n, v in echo.get("headers", []) if n.lower() == echo_header]
            return echo.get("path_hex"), found[0] if found else None
    return None, None


class Http1:
    """HTTP/1.1 keep-alive: one connection until the proxy closes it."""

    def __init__(self, spec: dict, port: int):
        self.context, self.port, self.tls, self.buffer = tls_context(spec, "http/1.1"), port, None, b""
        self.echo_header = spec.get("echo_header")

    def close(self):
        if self.tls is not None:
            self.tls.close()
        self.tls, self.buffer = None, b""

    def recv(self) -> bytes:
        chunk = self.tls.recv(65536)
        if not chunk:
            raise ConnectionError("connection closed")
        return chunk

    def read_until(self, marker: bytes) -> bytes:
        while marker not in self.buffer:
            self.buffer += self.recv()
        head, _, self.buffer = self.buffer.partition(marker)
        return head

    def read_exact(self, size: int) -> bytes:
        while len(self.buffer) < size:
            self.buffer += self.recv()
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data

    def send(self, raw_target: bytes) -> dict:
        if self.tls is None:
            self.tls = connect(self.context, self.port)
        self.tls.sendall(b"GET " + raw_target + b" HTTP/1.1\r\nhost: localhost\r\n\r\n")
        head = self.read_until(b"\r\n\r\n").decode("latin-1")
        status_line, *lines = head.split("\r\n")
        headers = [[n.strip().lower(), v.strip()] for n, _, v in (h.partition(":") for h in lines)]
        found = dict(headers)
        if "content-length" in found:
            self.read_exact(int(found["content-length"]))
        elif found.get("transfer-encoding", "").lower() == "chunked":
            while True:
                size = int(self.read_until(b"\r\n").split(b";")[0], 16)
                self.read_exact(size + 2)
                if size == 0:
                    break
        if found.get("connection", "").lower() == "close":
            self.close()
        upstream, header = upstream_of(headers, self.echo_header)
        return {"status": int(status_line.split(" ")[1]), "upstream": upstream, "header": header,
                "location": found.get("location")}


class Http2:
    """HTTP/2: one stream per target on one connection until the proxy ends it."""

    def __init__(self, spec: dict, port: int):
        self.context, self.port, self.tls, self.connection = tls_context(spec, "h2"), port, None, None
        self.echo_header = spec.get("echo_header")

    def close(self):
        if self.tls is not None:
            self.tls.close()
        self.tls, self.connection = None, None

    def send(self, raw_target: bytes) -> dict:
        import h2.config
        import h2.connection
        import h2.events

        if self.tls is None:
            self.tls = connect(self.context, self.port)
            self.connection = h2.connection.H2Connection(h2.config.H2Configuration(
                client_side=True, header_encoding=None, validate_outbound_headers=False,
                normalize_outbound_headers=False, validate_inbound_headers=False))
            self.connection.initiate_connection()
        connection = self.connection
        stream = connection.get_next_available_stream_id()
        connection.send_headers(stream, [(b":method", b"GET"), (b":path", raw_target),
                                         (b":scheme", b"https"), (b":authority", b"localhost")],
                                end_stream=True)
        self.tls.sendall(connection.data_to_send())
        status, headers = None, []
        while True:
            chunk = self.tls.recv(65536)
            if not chunk:
                self.close()
                raise ConnectionError("connection closed")
            for event in connection.receive_data(chunk):
                if isinstance(event, h2.events.ResponseReceived) and event.stream_id == stream:
                    for name, value in event.headers:
                        if name == b":status":
                            status = int(value)
                        else:
                            headers.append([name.decode(), value.decode("latin-1")])
                elif isinstance(event, h2.events.DataReceived):
                    connection.acknowledge_received_data(event.flow_controlled_length,
                                                         event.stream_id)
                elif isinstance(event, h2.events.StreamReset) and event.stream_id == stream:
                    self.tls.sendall(connection.data_to_send())
                    return {"error": f"stream reset ({event.error_code})"}
                elif isinstance(event, h2.events.ConnectionTerminated):
                    self.close()
                    return {"error": f"GOAWAY ({event.error_code})"}
                elif isinstance(event, h2.events.StreamEnded) and event.stream_id == stream:
                    self.tls.sendall(connection.data_to_send())
                    found = dict(headers)
                    upstream, header = upstream_of(headers, self.echo_header)
                    return {"status": status, "upstream": upstream, "header": header,
                            "location": found.get("location")}
            self.tls.sendall(connection.data_to_send())


def run(spec: dict, label: str, protocol: str, generated: list[bytes], out: list) -> None:
    """Every target on one listener and protocol, in order; `out` receives one dict each."""
    client = (Http1 if protocol == "h1" else Http2)(spec, spec["listeners"][label])
    for index, raw_target in enumerate(generated):
        started = time.monotonic()
        try:
            result = client.send(raw_target)
        except Exception as err:  # TLS, socket, h2 protocol errors: the proxy broke the link
            client.close()
            result = {"error": f"{type(err).__name__}: {err}"}
        result.update({"l": label, "p": protocol, "i": index,
                       "ms": round((time.monotonic() - started) * 1000, 1)})
        out.append(result)
    client.close()


def main() -> int:
    spec = json.load(sys.stdin)
    generated = targets(spec["count"], spec["seed"])
    sys.stdout.write(json.dumps({"targets": [t.hex() for t in generated]}) + "\n")
    # One thread per listener and protocol: the proxies answer in parallel.
    runs = [(label, protocol, []) for label in sorted(spec["listeners"])
            for protocol in spec.get("protocols", ["h1", "h2"])]
    threads = [threading.Thread(target=run, args=(spec, label, protocol, generated, out))
               for label, protocol, out in runs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for _, _, out in runs:
        for result in out:
            sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
