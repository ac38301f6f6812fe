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


def test_a_coroutine_cannot_be_awaited_twice(wire: opdeck.Deck) -> None:
    async def main() -> None:
        c = wire.acall("wire.items.listItems")
        await c
        with pytest.raises(RuntimeError):
            await c

    asyncio.run(main())
