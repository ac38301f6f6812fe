"""Live Zou through the built-in Kitsu catalog: the login flow, a project's
whole life, an open-query filter, paging over 25 items, an error; and the
same reads through gazu, Kitsu's own Python client, give the same records."""

from __future__ import annotations

import re
from typing import Any, Iterator

import pytest

import opdeck
from conftest import Zou, kitsu_op, unique


@pytest.fixture
def kitsu(zou: Zou) -> opdeck.Deck:
    return zou.deck()


def closed_status(deck: opdeck.Deck) -> str:
    found = deck.call(kitsu_op(deck, "GET", "/data/project-status"), name="Closed")
    assert len(found) == 1, found
    return str(found[0]["id"])


def drop_project(deck: opdeck.Deck, pid: str) -> None:
    put = kitsu_op(deck, "PUT", "/data/projects/{instance_id}")
    delete = kitsu_op(deck, "DELETE", "/data/projects/{instance_id}")
    deck.call(put, instance_id=pid, body={"project_status_id": closed_status(deck)})
    deck.call(delete, instance_id=pid, force=True)


def test_the_first_call_logs_in(kitsu: opdeck.Deck, zou: Zou) -> None:
    who = kitsu.call(kitsu_op(kitsu, "GET", "/auth/authenticated"))
    assert who["authenticated"] is True
    assert who["user"]["email"] == zou.username
    assert zou.password not in repr(kitsu)


def test_a_wrong_password_is_an_auth_error(zou: Zou) -> None:
    deck = opdeck.Deck(base_urls={"kitsu": zou.url}, credentials={"kitsu": {"username": zou.username, "password": "wrong-pw-123"}})
    with pytest.raises(opdeck.Error) as info:
        deck.call(kitsu_op(deck, "GET", "/auth/authenticated"))
    assert isinstance(info.value, (opdeck.AuthError, opdeck.HttpError))
    assert "wrong-pw-123" not in str(info.value)


def test_a_project_lives_and_dies(kitsu: opdeck.Deck) -> None:
    name = unique("project")
    create = kitsu_op(kitsu, "POST", "/data/projects")
    get = kitsu_op(kitsu, "GET", "/data/projects/{instance_id}")
    put = kitsu_op(kitsu, "PUT", "/data/projects/{instance_id}")
    delete = kitsu_op(kitsu, "DELETE", "/data/projects/{instance_id}")
    project = kitsu.call(create, body={"name": name})
    pid = project["id"]
    try:
        assert project["name"] == name
        assert kitsu.call(get, instance_id=pid)["name"] == name
        renamed = name + "-renamed"
        assert kitsu.call(put, instance_id=pid, body={"name": renamed})["name"] == renamed
        listed = kitsu.call(kitsu_op(kitsu, "GET", "/data/projects"), name=renamed)
        assert [p["id"] for p in listed] == [pid]
        # Deleting an open project is refused: an HttpError with Zou's message.
        with pytest.raises(opdeck.HttpError) as info:
            kitsu.call(delete, instance_id=pid, force=True)
        assert info.value.status == 400 and "closed" in str(info.value.body).lower()
        closed = closed_status(kitsu)
        assert kitsu.call(put, instance_id=pid, body={"project_status_id": closed})["project_status_id"] == closed
        out = kitsu.call_full(delete, instance_id=pid, force=True)
        assert (out.status, out.body) == (204, None)
        pid = None
        with pytest.raises(opdeck.HttpError) as gone:
            kitsu.call(get, instance_id=project["id"])
        assert gone.value.status == 404 and gone.value.operation == get
    finally:
        if pid:
            drop_project(kitsu, pid)


@pytest.fixture
def task_types(kitsu: opdeck.Deck) -> Iterator[tuple[str, list[str]]]:
    """25 task types sharing a colour no other run uses."""
    import os
    import time

    color = "#%06x" % ((time.time_ns() ^ (os.getpid() << 12)) & 0xFFFFFF)
    prefix = f"opy-{os.getpid()}-{time.time_ns() % 10**6}"
    create = kitsu_op(kitsu, "POST", "/data/task-types")
    made = kitsu.call_many(
        [(create, {"body": {"name": f"{prefix}-{i:02}", "for_entity": "Asset", "color": color}}) for i in range(25)], limit=4
    )
    ids = [m["id"] for m in made if isinstance(m, dict)]
    try:
        assert len(ids) == 25, [m for m in made if not isinstance(m, dict)][:2]
        yield color, ids
    finally:
        delete = kitsu_op(kitsu, "DELETE", "/data/task-types/{instance_id}")
        kitsu.call_many([(delete, {"instance_id": i}) for i in ids])


def test_pagination_over_25_items_returns_each_once(kitsu: opdeck.Deck, task_types: tuple[str, list[str]]) -> None:
    color, ids = task_types
    op = kitsu_op(kitsu, "GET", "/data/task-types")
    got = [t["id"] for t in kitsu.paginate(op, color=color, limit=10)]
    assert sorted(got) == sorted(ids) and len(got) == 25

    import asyncio

    async def collect() -> list[Any]:
        return [t["id"] async for t in kitsu.apaginate(op, color=color, limit=10)]

    assert sorted(asyncio.run(collect())) == sorted(ids)


def _assets_op(deck: opdeck.Deck) -> str:
    for op in deck.ops(service="kitsu", method="GET"):
        if re.fullmatch(r"/data/projects/\{[^}]+\}/assets", op["path"]):
            return str(op["id"])
    raise AssertionError("no GET /data/projects/{id}/assets in the kitsu catalog")


def _by_id(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in records}


def test_gazu_and_opdeck_read_the_same_records(kitsu: opdeck.Deck, zou: Zou) -> None:
    import gazu

    client = gazu.client.create_client(zou.url)
    gazu.log_in(zou.username, zou.password, client=client)
    project = gazu.project.new_project(unique("parity"), client=client)
    try:
        asset_type = gazu.asset.all_asset_types(client=client)[0]
        for n in range(3):
            gazu.asset.new_asset(project, asset_type, f"asset-{n}", client=client)
        pairs = [
            (gazu.project.all_projects(client=client), kitsu.call(kitsu_op(kitsu, "GET", "/data/projects"))),
            (gazu.person.all_persons(client=client), kitsu.call(kitsu_op(kitsu, "GET", "/data/persons"))),
            (gazu.task.all_task_types(client=client), kitsu.call(kitsu_op(kitsu, "GET", "/data/task-types"))),
            (
                gazu.asset.all_assets_for_project(project, client=client),
                kitsu.call(_assets_op(kitsu), **{_project_param(kitsu): project["id"]}),
            ),
        ]
        for theirs, ours in pairs:
            assert isinstance(ours, list)
            assert _by_id(theirs) == _by_id(ours)
        assert len(pairs[3][1]) == 3
    finally:
        drop_project(kitsu, project["id"])


def _project_param(deck: opdeck.Deck) -> str:
    path = deck.describe(_assets_op(deck))["path"]
    m = re.search(r"\{([^}]+)\}", path)
    assert m
    return m.group(1)
