"""opdeck's Python binding against the usual Python HTTP clients, on loopback.

    python bench/python_clients.py [--seconds 1.0] [--rounds 5] [--port 18089]

Starts a private nginx (Debian's, see tests/peers/install-python.sh) on
127.0.0.1 that answers GET /small.json with a small JSON document, then
measures, in alternating rounds from one run, each client in each column:

    seq        sequential calls on one thread
    aio1/16/64 asyncio with 1, 16 and 64 calls in flight
    thr8       8 threads sharing one client
    many64     opdeck's call_many at 64 (Rust concurrency; no Python per call)

Each figure is calls per second (the median of the rounds) with the process
CPU time per call beside it, in µs, every thread of the process included
(clients with a runtime thread pay for it there). The JSON body is decoded to
Python objects by every client. opdeck's operation validates its input as
every call does. Bounded: each cell runs for --seconds, loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from typing import Any, Awaitable, Callable, Optional

BODY = '{"id": 42, "name": "opdeck", "tags": ["a", "b"], "ok": true, "ratio": 0.5}'

SPEC = """{"openapi": "3.0.3", "info": {"title": "bench", "version": "1"},
 "paths": {"/small.json": {"get": {"operationId": "getSmall", "tags": ["small"],
   "parameters": [{"name": "v", "in": "query", "schema": {"type": "integer", "minimum": 0}}],
   "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"type": "object"}}}}}}}}}"""


def start_nginx(port: int) -> tuple[subprocess.Popen[bytes], str]:
    exe = shutil.which("nginx") or "/usr/sbin/nginx"
    if not os.path.exists(exe):
        sys.exit("nginx not found: bash tests/peers/install-python.sh installs it")
    root = tempfile.mkdtemp(prefix="opdeck-bench-nginx-")
    user = "user root;" if os.geteuid() == 0 else ""
    conf = f"""
{user}
worker_processes 1;
daemon off;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  keepalive_requests 1000000;
  keepalive_timeout 60s;
  client_body_temp_path {root}; proxy_temp_path {root}; fastcgi_temp_path {root};
  uwsgi_temp_path {root}; scgi_temp_path {root};
  server {{
    listen 127.0.0.1:{port};
    location = /small.json {{ default_type application/json; return 200 '{BODY}'; }}
  }}
}}
"""
    with open(f"{root}/nginx.conf", "w") as f:
        f.write(conf)
    proc = subprocess.Popen([exe, "-p", root, "-c", f"{root}/nginx.conf"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}/small.json"
    for _ in range(100):
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                r.read()
            return proc, root
        except OSError:
            if proc.poll() is not None:
                sys.exit(f"nginx failed: {proc.stderr.read().decode() if proc.stderr else ''}")
            time.sleep(0.05)
    sys.exit("nginx did not answer")


# ---- the cells ---------------------------------------------------------------------

Cell = Callable[[float], tuple[int, float, float]]  # seconds -> (calls, wall, cpu)


def timed_sync(call: Callable[[], Any]) -> Cell:
    def run(seconds: float) -> tuple[int, float, float]:
        n = 0
        c0, t0 = time.process_time(), time.perf_counter()
        end = t0 + seconds
        while True:
            for _ in range(50):
                call()
            n += 50
            if time.perf_counter() >= end:
                break
        return n, time.perf_counter() - t0, time.process_time() - c0

    return run


def timed_threads(call: Callable[[], Any], threads: int = 8) -> Cell:
    def run(seconds: float) -> tuple[int, float, float]:
        counts = [0] * threads
        stop = threading.Event()

        def work(i: int) -> None:
            while not stop.is_set():
                for _ in range(20):
                    call()
                counts[i] += 20

        ts = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
        c0, t0 = time.process_time(), time.perf_counter()
        for t in ts:
            t.start()
        time.sleep(seconds)
        stop.set()
        for t in ts:
            t.join()
        return sum(counts), time.perf_counter() - t0, time.process_time() - c0

    return run


def timed_async(make: Callable[[], Awaitable[Any]], inflight: int, setup: Optional[Callable[[], Any]] = None) -> Cell:
    """`make()` returns one call's awaitable; `inflight` workers loop over it."""

    def run(seconds: float) -> tuple[int, float, float]:
        async def main() -> tuple[int, float, float]:
            ctx = setup() if setup else None
            if ctx is not None:
                await ctx.__aenter__()
            try:
                counts = [0] * inflight
                end = time.perf_counter() + seconds

                async def worker(i: int) -> None:
                    while time.perf_counter() < end:
                        await make()
                        counts[i] += 1

                c0, t0 = time.process_time(), time.perf_counter()
                await asyncio.gather(*(worker(i) for i in range(inflight)))
                return sum(counts), time.perf_counter() - t0, time.process_time() - c0
            finally:
                if ctx is not None:
                    await ctx.__aexit__(None, None, None)

        return asyncio.run(main())

    return run


def clients(url: str) -> dict[str, dict[str, Cell]]:
    import aiohttp
    import httpx
    import requests
    from pyreqwest.client import ClientBuilder, SyncClientBuilder

    import opdeck

    out: dict[str, dict[str, Cell]] = {}

    deck = opdeck.Deck(builtins=False)
    deck.add_source("bench", SPEC, base_url=url.rsplit("/", 1)[0])
    op = "bench.small.getSmall"
    out["opdeck"] = {
        "seq": timed_sync(lambda: deck.call(op, v=1)),
        **{f"aio{k}": timed_async(lambda: deck.acall(op, v=1), k) for k in (1, 16, 64)},
        "thr8": timed_threads(lambda: deck.call(op, v=1)),
    }

    def many(seconds: float) -> tuple[int, float, float]:
        batch = [(op, {"v": 1})] * 640
        n = 0
        c0, t0 = time.process_time(), time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            res = deck.call_many(batch, limit=64)
            n += len(res)
        return n, time.perf_counter() - t0, time.process_time() - c0

    out["opdeck"]["many64"] = many

    sync_rq = SyncClientBuilder().build()
    holder: dict[str, Any] = {}

    class PyreqwestCtx:
        async def __aenter__(self) -> None:
            holder["c"] = ClientBuilder().build()

        async def __aexit__(self, *a: Any) -> None:
            await holder["c"].close()

    async def rq_get() -> Any:
        resp = await holder["c"].get(url).build().send()
        return await resp.json()

    out["pyreqwest"] = {
        "seq": timed_sync(lambda: sync_rq.get(url).build().send().json()),
        **{f"aio{k}": timed_async(rq_get, k, PyreqwestCtx) for k in (1, 16, 64)},
        "thr8": timed_threads(lambda: sync_rq.get(url).build().send().json()),
    }

    session = requests.Session()
    out["requests"] = {
        "seq": timed_sync(lambda: session.get(url).json()),
        "thr8": timed_threads(lambda: session.get(url).json()),
    }

    hx = httpx.Client(limits=httpx.Limits(max_keepalive_connections=64, max_connections=64))

    class HttpxCtx:
        async def __aenter__(self) -> None:
            holder["hx"] = httpx.AsyncClient(limits=httpx.Limits(max_keepalive_connections=64, max_connections=64))

        async def __aexit__(self, *a: Any) -> None:
            await holder["hx"].aclose()

    async def hx_get() -> Any:
        return (await holder["hx"].get(url)).json()

    out["httpx"] = {
        "seq": timed_sync(lambda: hx.get(url).json()),
        **{f"aio{k}": timed_async(hx_get, k, HttpxCtx) for k in (1, 16, 64)},
        "thr8": timed_threads(lambda: hx.get(url).json()),
    }

    class AiohttpCtx:
        async def __aenter__(self) -> None:
            holder["ah"] = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=64))

        async def __aexit__(self, *a: Any) -> None:
            await holder["ah"].close()

    async def ah_get() -> Any:
        async with holder["ah"].get(url) as r:
            return await r.json()

    out["aiohttp"] = {f"aio{k}": timed_async(ah_get, k, AiohttpCtx) for k in (1, 16, 64)}
    return out


COLUMNS = ["seq", "aio1", "aio16", "aio64", "thr8", "many64"]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seconds", type=float, default=1.0, help="length of one cell (default 1 s)")
    p.add_argument("--rounds", type=int, default=5, help="alternating rounds (default 5)")
    p.add_argument("--port", type=int, default=18089)
    p.add_argument("--only", help="comma-separated clients to run")
    a = p.parse_args()
    nginx, root = start_nginx(a.port)
    try:
        url = f"http://127.0.0.1:{a.port}/small.json"
        table = clients(url)
        if a.only:
            table = {k: v for k, v in table.items() if k in a.only.split(",")}
        results: dict[tuple[str, str], list[tuple[float, float]]] = {}
        for name, cells in table.items():  # warm-up: connections, JIT-less caches
            for cell in cells.values():
                cell(0.1)
        for r in range(a.rounds):
            names = list(table) if r % 2 == 0 else list(reversed(table))
            for col in COLUMNS:
                for name in names:
                    cell = table[name].get(col)
                    if cell is None:
                        continue
                    n, wall, cpu = cell(a.seconds)
                    results.setdefault((name, col), []).append((n / wall, cpu / n * 1e6))
        print(f"GET {len(BODY)}-byte JSON from nginx on loopback; {a.rounds} alternating rounds of {a.seconds:g} s")
        print("calls/s (CPU µs per call), medians over rounds\n")
        print(f"{'client':<10}" + "".join(f"{c:>19}" for c in COLUMNS))
        for name in table:
            row = f"{name:<10}"
            for col in COLUMNS:
                got = results.get((name, col))
                if not got:
                    row += f"{'-':>19}"
                    continue
                rate = statistics.median(x[0] for x in got)
                cpu = statistics.median(x[1] for x in got)
                row += f"{rate:>11,.0f} ({cpu:>4.0f})"
            print(row)
        if ("opdeck", "seq") in results and ("pyreqwest", "seq") in results:
            print("\nopdeck / pyreqwest:")
            for col in COLUMNS:
                ref_col = "aio64" if col == "many64" else col
                ours, ref = results.get(("opdeck", col)), results.get(("pyreqwest", ref_col))
                if ours and ref:
                    ratio = statistics.median(x[0] for x in ours) / statistics.median(x[0] for x in ref)
                    print(f"  {col:<7} {ratio:5.2f}x" + ("  (vs pyreqwest aio64)" if col == "many64" else ""))
    finally:
        nginx.send_signal(signal.SIGQUIT)
        try:
            nginx.wait(5)
        except subprocess.TimeoutExpired:
            nginx.kill()
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
