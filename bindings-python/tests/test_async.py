"""asyncio: many calls gathered, several event loops in a row, cancellation."""

from __future__ import annotations

import asyncio

import pytest

import opdeck
from conftest import Server


def test_200_calls_gathered(wire: opdeck.Deck, server: Server) -> None:
    async def main() -> list[object]:
        return await asyncio.gather(*(wire.acall("wire.items.getItem", item_id=str(i)) for i in range(200)))

    out = asyncio.run(main())
    assert len(out) == 200 and all(isinstance(o, dict) and o["z"] == 1 for o in out)
    assert server.count("/items/0") == 1 and len(server.requests) == 200


def test_two_event_loops_in_a_row_share_one_deck(wire: opdeck.Deck) -> None:
    async def one() -> object:
        return await wire.acall("wire.items.listItems")

    assert asyncio.run(one()) == asyncio.run(one())
    loop = asyncio.new_event_loop()
    try:
        assert loop.run_until_complete(one())
    finally:
        loop.close()


def test_acall_full_and_errors_are_raised_in_the_loop(wire: opdeck.Deck) -> None:
    async def main() -> None:
        out = await wire.acall_full("wire.items.createItem", body={"name": "x"})
        assert out.status == 201
        with pytest.raises(opdeck.HttpError) as info:
            await wire.acall("wire.errors.getStatus", code=418)
        assert info.value.status == 418

    asyncio.run(main())


def test_wait_for_cancels_the_request(wire: opdeck.Deck, server: Server) -> None:
    async def main() -> None:
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(wire.acall("wire.errors.getSlow"), timeout=0.3)

    asyncio.run(main())
    # The connection was dropped: the server saw the client hang up well before its 10 s.
    assert server.hung_up.wait(5), "the cancelled request was still open on the server"
    # The deck still works afterwards.
    assert wire.call("wire.items.listItems")


def test_an_async_call_is_a_future_of_the_running_loop(wire: opdeck.Deck, server: Server) -> None:
    async def main() -> None:
        f = wire.start_call("wire.items.listItems")
        assert isinstance(f, asyncio.Future) and f.get_loop() is asyncio.get_running_loop()
        assert await f == await f  # a finished future gives its result again
        assert server.count("/items") == 1

    asyncio.run(main())
    with pytest.raises(RuntimeError):
        wire.start_call("wire.items.listItems")  # no running loop
    coro = wire.acall("wire.items.listItems")  # a coroutine: nothing starts until awaited
    assert server.count("/items") == 1
    assert asyncio.run(coro) == [{"name": "a", "count": 1}, {"name": "b", "count": 2}]


def test_many_loops_in_threads_at_once(wire: opdeck.Deck) -> None:
    import threading

    out: list[object] = []

    def run() -> None:
        async def main() -> list[object]:
            return await asyncio.gather(*(wire.acall("wire.items.listItems") for _ in range(20)))

        out.extend(asyncio.run(main()))

    ts = [threading.Thread(target=run) for _ in range(8)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    assert len(out) == 160 and all(o == out[0] for o in out)


def test_the_interpreter_exits_cleanly_right_after_an_async_call() -> None:
    import subprocess
    import sys

    code = "import asyncio, opdeck; d = opdeck.Deck(mock=True); asyncio.run(d.acall('wildduck.users.getUsers'))"
    for _ in range(10):
        assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_a_page_fetch_cancelled_mid_page_leaves_the_pager_usable(wire: opdeck.Deck, server: Server) -> None:
    pager = wire.pager("wire.errors.getSlow")

    async def main() -> object:
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(pager.anext_page(), timeout=0.3)
        assert server.hung_up.wait(5), "the cancelled page was still being fetched"
        # The page was not taken: the next fetch asks for it again and gets it.
        server.handler = lambda req: (200, {"content-type": "application/json"}, b'[{"n": 1}, {"n": 2}]') if req.path == "/slow" else None
        return await asyncio.wait_for(pager.anext_page(), timeout=5)

    assert asyncio.run(main()) == [{"n": 1}, {"n": 2}]
    assert pager.next_page() is None
    assert server.count("/slow") == 2
