#!/usr/bin/env python3
"""Steady load for tests/e2e/tests/reload.rs: THREADS keep-alive connections (half HTTP/1.1,
half HTTP/2) with one client certificate send `GET <target>` back to back until the file
`stop` names exists, then print every answer as JSON: [[Unix time, status or null], ...].

stdin: {"port": 10443, "ca": "...", "cert": "...", "key": "...", "target": "/p", "stop": "/x",
        "threads": 4}
"""

import json
import os
import socket
import ssl
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import path_diff  # noqa: E402  (its HTTP/1.1 and HTTP/2 clients)


def main() -> int:
    spec = json.load(sys.stdin)
    answers, lock = [], threading.Lock()

    def worker(n: int) -> None:
        client = (path_diff.Http1 if n % 2 == 0 else path_diff.Http2)(spec, spec["port"])
        while not os.path.exists(spec["stop"]):
            try:
                status = client.send(spec["target"].encode()).get("status")
            except Exception:  # noqa: BLE001 - recorded as no answer
                client.close()
                status = None
            with lock:
                answers.append([round(time.time(), 3), status])
        client.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(spec.get("threads", 4))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    answers.sort(key=lambda answer: answer[0])  # by time; a missing answer is None
    print(json.dumps(answers))
    return 0


if __name__ == "__main__":
    sys.exit(main())
