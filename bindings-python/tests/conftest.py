"""Fixtures of the wheel's tests: a loopback server that records the exact
requests it gets, decks pointed at it, and the live Zou peer.

The tests import the *installed* `opdeck` (the wheel in a fresh venv, as CI
builds it); they read only files of this repository.
"""

from __future__ import annotations

import json
import os
import select
import socket
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Iterator, Optional
from urllib.parse import urlsplit

import pytest

import opdeck

HERE = Path(__file__).resolve().parent
SPECS = HERE / "specs"
ROOT = HERE.parents[1]
SECRET = "tok-3f9a-very-secret"

# The body every GET of /items/{id} gets: keys deliberately out of sorted order.
ORDERED = '{"z": 1, "a": {"y": 2, "b": 3}, "m": [1, "x", null, true, 1.5], "k": "v"}'


@dataclass
class Recorded:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes

    def header(self, name: str) -> Optional[str]:
        return self.headers.get(name.lower())


@dataclass
class Server:
    """A loopback HTTP/1.1 server with keep-alive; `requests` holds what it got."""

    url: str
    requests: list[Recorded] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # Set when a client hangs up on /slow before the answer (a cancelled request).
    hung_up: threading.Event = field(default_factory=threading.Event)
    record: bool = True
    handler: Optional[Callable[[Recorded], Optional[tuple[int, dict[str, str], bytes]]]] = None

    def last(self) -> Recorded:
        with self.lock:
            return self.requests[-1]

    def count(self, path: str) -> int:
        with self.lock:
            return sum(1 for r in self.requests if r.path == path)


def _reply(server: Server, req: Recorded, conn: socket.socket) -> tuple[int, dict[str, str], bytes]:
    if server.handler is not None:
        custom = server.handler(req)
        if custom is not None:
            return custom
    js = {"content-type": "application/json"}
    path = req.path
    if path.startswith("/items/") or path.startswith("/labels/"):
        return 200, js, ORDERED.encode()
    if path == "/items" and req.method == "POST":
        return 201, js, req.body
    if path == "/items":
        return 200, js, b'[{"name": "a", "count": 1}, {"name": "b", "count": 2}]'
    if path in ("/form", "/upload"):
        return 204, {}, b""
    if path == "/blob":
        return 200, {"content-type": "application/octet-stream"}, b"\x00\x01\xfe\xff"
    if path == "/text":
        return 200, {"content-type": "text/plain; charset=utf-8"}, "héllo\nworld".encode()
    if path.startswith("/status/"):
        code = int(path.rsplit("/", 1)[1])
        body = json.dumps({"error": "nope", "code": code}).encode()
        return code, {**js, "x-request-id": "req-42", "x-extra": "yes"}, body
    if path == "/slow":
        # Wait up to 10 s for the client to hang up; a cancelled call does.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            ready, _, _ = select.select([conn], [], [], 0.05)
            if ready:
                try:
                    if conn.recv(1, socket.MSG_PEEK) == b"":
                        server.hung_up.set()
                        raise ConnectionAbortedError
                except (ConnectionResetError, OSError):
                    server.hung_up.set()
                    raise ConnectionAbortedError
        return 200, js, b'{"slow": true}'
    return 200, js, b'{"ok": true}'


def _handler_class(server: Server) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            # Headers and body go out in two writes: without this, Nagle and the
            # client's delayed ACK add 40 ms to every keep-alive answer.
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def _any(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            parts = urlsplit(self.path)
            req = Recorded(
                self.command,
                parts.path,
                parts.query,
                {k.lower(): v for k, v in self.headers.items()},
                body,
            )
            if server.record:
                with server.lock:
                    server.requests.append(req)
            try:
                status, headers, data = _reply(server, req, self.connection)
            except ConnectionAbortedError:
                self.close_connection = True
                return
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            if data:
                self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _any

    return Handler


@pytest.fixture
def server() -> Iterator[Server]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    httpd.daemon_threads = True
    srv = Server(url=f"http://127.0.0.1:{httpd.server_address[1]}")
    httpd.RequestHandlerClass = _handler_class(srv)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield srv
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def wire_deck(server: Server, **kwargs: Any) -> opdeck.Deck:
    """A deck with no built-ins and the three wire specs, all sent to `server`."""
    creds = {"wire": SECRET, "wirekey": SECRET, "wirebasic": {"username": "ann", "password": SECRET}}
    deck = opdeck.Deck(builtins=False, credentials=creds, **kwargs)
    for name, file in (("wire", "wire.json"), ("wirekey", "wire-apikey.json"), ("wirebasic", "wire-basic.json")):
        deck.add_source(name, str(SPECS / file), base_url=server.url)
    return deck


@pytest.fixture
def wire(server: Server) -> opdeck.Deck:
    return wire_deck(server)


@dataclass
class Zou:
    url: str
    username: str
    password: str

    def deck(self, **kwargs: Any) -> opdeck.Deck:
        return opdeck.Deck(
            base_urls={"kitsu": self.url},
            credentials={"kitsu": {"username": self.username, "password": self.password}},
            **kwargs,
        )


def peer_missing(what: str, why: str) -> None:
    """A missing peer fails the test under CI and skips it elsewhere."""
    if os.environ.get("CI"):
        pytest.fail(f"{what} is needed under CI: {why}")
    pytest.skip(f"{what} not available: {why}")


@pytest.fixture(scope="session")
def zou() -> Zou:
    env = {k: os.environ.get(f"OPDECK_KITSU_{k}") for k in ("URL", "USERNAME", "PASSWORD")}
    if not all(env.values()):
        peer_missing("zou", "OPDECK_KITSU_URL/_USERNAME/_PASSWORD are not set (tests/peers/zou.sh start)")
    url = str(env["URL"])
    try:
        with urllib.request.urlopen(url.rstrip("/") + "/", timeout=5) as r:
            r.read()
    except OSError as e:
        peer_missing("zou", f"{url} does not answer: {e}")
    return Zou(url, str(env["USERNAME"]), str(env["PASSWORD"]))


def kitsu_op(deck: opdeck.Deck, method: str, path: str) -> str:
    """The id of the Kitsu operation at `method path` (ids may be renamed; routes are Zou's)."""
    for op in deck.ops(service="kitsu"):
        if op["method"] == method and op["path"] == path:
            return str(op["id"])
    raise AssertionError(f"the kitsu catalog has no {method} {path}")


def unique(what: str) -> str:
    return f"opdeck-py-{what}-{os.getpid()}-{time.time_ns() % 10**9}"
