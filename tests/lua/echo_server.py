"""A loopback HTTP server for the Lua tests: it answers every request with
the request itself, so a test can check exactly what opdeck sent.

    python3 tests/lua/echo_server.py    # prints the base URL, serves until stdin closes

Answer body: {"method", "path", "query" (raw string), "headers" (lowercase
names), "body" (the raw body text)}, keys in that order. `/status/<code>`
answers with that status and the same body; `/mirror` answers with the
request's body as JSON; `/empty` answers 204; `/hang` answers after 30 s;
`/broken` answers a JSON content type with a body that is not JSON.
"""

import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Echo(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self):
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        path, _, query = self.path.partition("?")
        if path == "/hang":
            time.sleep(30)
        if path == "/empty":
            self.send_response(204)
            self.send_header("content-length", "0")
            self.end_headers()
            return
        if path == "/broken":
            return self.send_json(200, b'{"a": [1,')
        if path == "/mirror":
            return self.send_json(200, body.encode() or b"null")
        status = 200
        if path.startswith("/status/"):
            status = int(path.rsplit("/", 1)[1])
        echoed = {
            "method": self.command,
            "path": path,
            "query": query,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": body,
        }
        self.send_json(status, json.dumps(echoed).encode())

    def send_json(self, status, data):
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = answer


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    server.daemon_threads = True
    print(f"http://127.0.0.1:{server.server_address[1]}", flush=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sys.stdin.read()  # until the test runner closes our stdin (or exits)
    server.shutdown()


if __name__ == "__main__":
    main()
