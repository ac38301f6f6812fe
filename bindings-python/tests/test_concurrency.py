"""Threads share one deck and its pool; a forked child gets a clear error
from the parent's deck and a working new one; logging reaches `logging`."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import warnings

import pytest

import opdeck
from conftest import SECRET, Server, wire_deck


def test_8_threads_x_500_calls(wire: opdeck.Deck, server: Server) -> None:
    server.record = False
    errors: list[BaseException] = []
    counts = [0] * 8

    def work(n: int) -> None:
        try:
            for i in range(500):
                out = wire.call("wire.items.getItem", item_id=f"{n}-{i}")
                assert out["z"] == 1
                counts[n] += 1
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors[:3]
    assert counts == [500] * 8


def test_a_forked_child_gets_a_clear_error_and_a_working_new_deck(wire: opdeck.Deck, server: Server) -> None:
    assert wire.call("wire.items.listItems")  # the parent's runtime is running
    r, w = os.pipe()
    with warnings.catch_warnings():
        # Python 3.12+ warns that forking a process with threads may deadlock:
        # that process is exactly what this test forks.
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # the child: report through the pipe, never return into pytest
        code = 1
        try:
            os.close(r)
            try:
                wire.call("wire.items.listItems")
                msg = "parent deck worked"
            except opdeck.UsageError as e:
                msg = "usage:" + str(e)
            fresh = wire_deck(server)
            ok = fresh.call("wire.items.listItems") == [{"name": "a", "count": 1}, {"name": "b", "count": 2}]
            os.write(w, f"{msg}|{ok}".encode())
            code = 0
        finally:
            os._exit(code)
    os.close(w)
    _, status = os.waitpid(pid, 0)
    data = os.read(r, 4096).decode()
    os.close(r)
    assert os.waitstatus_to_exitcode(status) == 0, data
    msg, ok = data.split("|")
    assert msg.startswith("usage:") and "fork" in msg, msg
    assert ok == "True"


def test_tracing_events_reach_the_opdeck_logger_without_secrets(server: Server, caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("opdeck")
    old = logger.level
    logger.setLevel(logging.DEBUG)
    try:
        opdeck.refresh_log_level()
        deck = wire_deck(server)
        with caplog.at_level(logging.DEBUG, logger="opdeck"):
            deck.call("wire.items.getItem", item_id="log", q="x")
            import asyncio

            asyncio.run(deck.acall("wire.items.getItem", item_id="alog"))
    finally:
        logger.setLevel(old)
        opdeck.refresh_log_level()
    records = [r for r in caplog.records if r.name == "opdeck"]
    assert records, "no opdeck log record"
    text = " ".join(r.getMessage() for r in records)
    assert "wire.items.getItem" in text
    # One record per call: the blocking one and the one that ran on the loop.
    assert sum("operation=wire.items.getItem" in r.getMessage() for r in records) >= 2, text
    assert all(hasattr(r, "opdeck") for r in records)
    assert SECRET not in text


def test_log_events_still_queued_at_exit_are_logged() -> None:
    # The call ends after its loop stopped running: nothing Python-side comes
    # back from opdeck to hand its event over, so the atexit hook must.
    code = (
        "import asyncio, logging, sys, time, opdeck\n"
        "logging.basicConfig(level=logging.DEBUG, stream=sys.stdout, format='%(name)s %(message)s')\n"
        "deck = opdeck.Deck(mock=True)\n"
        "loop = asyncio.new_event_loop()\n"
        "async def start():\n"
        "    deck.start_call('wildduck.users.getUsers')\n"
        "loop.run_until_complete(start())\n"
        "loop.close()\n"
        "time.sleep(0.5)\n"
        "print('exiting', flush=True)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert "exiting" in lines, out.stdout
    after = lines[lines.index("exiting") :]
    assert any(line.startswith("opdeck call operation=wildduck.users.getUsers status=200") for line in after), out.stdout
