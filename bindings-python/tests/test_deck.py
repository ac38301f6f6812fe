"""The deck's API on the built-in simulator and the wire specs: discovery,
attribute access, iteration, plugins, scripts."""

from __future__ import annotations

import asyncio
import inspect
import json
import subprocess
import sys
from typing import Any

import pytest

import opdeck
from conftest import SPECS, Server

BUILTIN = {"seald": 109, "dracoon": 297, "selfprivacy": 48, "wildduck": 106, "kitsu": 853}


@pytest.fixture(scope="module")
def mock() -> opdeck.Deck:
    return opdeck.Deck(mock=True)


def test_ops_counts_every_built_in_operation_and_the_two_meta_ops(mock: opdeck.Deck) -> None:
    ops = mock.ops()
    assert len(ops) == sum(BUILTIN.values()) + 2 == 1415
    assert len({o["id"] for o in ops}) == len(ops)
    assert {o["id"] for o in ops if o["service"] == "openapi"} == {"openapi.previewSpec", "openapi.addSource"}
    counts = {s["name"]: s["operations"] for s in mock.services()}
    assert {k: counts[k] for k in BUILTIN} == BUILTIN


def test_ops_search_and_filters(mock: opdeck.Deck) -> None:
    found = mock.ops("create user")
    assert found and "user" in found[0]["id"].lower()
    wd = mock.ops(service="wildduck")
    assert len(wd) == 106 and all(o["service"] == "wildduck" for o in wd)
    gets = mock.ops(service="wildduck", method="get")
    assert gets and all(o["method"] == "GET" for o in gets)
    assert all(o["method"] in ("GET", "HEAD", "OPTIONS") for o in mock.ops(service="kitsu", read_only=True))
    assert {"id", "alias", "service", "group", "name", "summary", "method", "path", "deprecated"} <= set(wd[0])


def test_describe_shows_method_path_parameters_and_schemas(mock: opdeck.Deck) -> None:
    d = mock.describe("wildduck.users.getUsers")
    assert d["method"] == "GET" and d["path"] == "/users"
    assert "input_schema" in d
    assert "query" in d["input_schema"]["properties"]


def test_simulated_calls_return_json_values(mock: opdeck.Deck) -> None:
    users = mock.call("wildduck.users.getUsers", query="ann")
    assert isinstance(users, dict)
    projects = mock.call("kitsu.projects.list")
    assert isinstance(projects, list)
    full = mock.call_full("wildduck.users.getUsers")
    assert full.status == 200 and isinstance(full.headers, dict)


def test_attribute_access_reaches_operations_with_help_and_dir(mock: opdeck.Deck) -> None:
    op = mock.wildduck.users.getUsers
    assert op(query="ann") == mock.call("wildduck.users.getUsers", query="ann") or isinstance(op(query="ann"), dict)
    assert "wildduck" in dir(mock)
    assert "users" in dir(mock.wildduck)
    assert "getUsers" in dir(mock.wildduck.users)
    assert op.__doc__ and op.__doc__.startswith("GET /users")
    assert "query" in op.__doc__
    sig = inspect.signature(op)
    assert "query" in sig.parameters
    assert mock.wildduck.users.getUsers is op  # cached
    with pytest.raises(AttributeError):
        mock.nosuchservice
    with pytest.raises(AttributeError):
        mock.wildduck.users.nosuchop
    # No token is configured, so the dry run shows none (issue 14: it used to invent one).
    assert "wildduck.mock.opdeck.invalid/users" in op.prepare() and "X-Access-Token" not in op.prepare()


def test_prepare_redacts_secret_body_fields_in_core(mock: opdeck.Deck) -> None:
    text = mock.prepare("wildduck.users.createUser", body={"username": "ann", "password": "pw-SECRET-3"})
    assert "pw-SECRET-3" not in text
    assert '"password":"<redacted>"' in text and '"username":"ann"' in text


def test_kitsu_collection_routes_have_new_names_and_former_ids(mock: opdeck.Deck) -> None:
    assert mock.call("kitsu.crud.getDataProjects") == mock.call("kitsu.projects.list")
    assert mock.kitsu.crud.getDataProjects() == mock.kitsu.projects.list()


def test_help_renders_the_operation(mock: opdeck.Deck) -> None:
    import pydoc

    text = pydoc.render_doc(mock.wildduck.users.getUsers, renderer=pydoc.plaintext)
    assert "GET /users" in text


def test_paginate_yields_every_item(wire: opdeck.Deck) -> None:
    assert list(wire.paginate("wire.items.listItems")) == [{"name": "a", "count": 1}, {"name": "b", "count": 2}]
    assert list(wire.paginate("wire.items.listItems", max_items=1)) == [{"name": "a", "count": 1}]


def test_apaginate_yields_every_item(wire: opdeck.Deck) -> None:
    async def collect() -> list[Any]:
        return [x async for x in wire.apaginate("wire.items.listItems")]

    assert asyncio.run(collect()) == [{"name": "a", "count": 1}, {"name": "b", "count": 2}]


def test_preview_and_add_source(server: Server) -> None:
    deck = opdeck.Deck(builtins=False, credentials={"w2": "t"})
    text = (SPECS / "wire.json").read_text()
    preview = deck.preview_spec(text)
    assert json.dumps(preview)  # JSON-able
    assert "wire" in json.dumps(preview)
    ids = deck.add_source("w2", text, base_url=server.url)
    assert "w2.items.getItem" in ids
    assert deck.call("w2.bodies.getText") == "héllo\nworld"


def test_call_many_runs_in_rust_and_keeps_the_order(wire: opdeck.Deck, server: Server) -> None:
    calls = [("wire.items.getItem", {"item_id": str(i)}) for i in range(100)]
    out = wire.call_many(calls, limit=16)
    assert len(out) == 100 and all(isinstance(o, dict) for o in out)
    paths = sorted(r.path for r in server.requests)
    assert paths == sorted(f"/items/{i}" for i in range(100))
    assert wire.call_many(["wire.items.listItems", ("wire.items.listItems",)]) == [
        [{"name": "a", "count": 1}, {"name": "b", "count": 2}]
    ] * 2
    with pytest.raises(TypeError):
        wire.call_many([("wire.items.listItems", {}, "extra")])


def test_a_sync_plugin_is_an_operation(wire: opdeck.Deck) -> None:
    seen: list[Any] = []

    @wire.operation("myapp.users.sync", input_schema={"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]})
    def sync(input: dict[str, Any]) -> dict[str, Any]:
        seen.append(input)
        return {"hello": input["name"], "n": len(seen)}

    assert wire.call("myapp.users.sync", name="ann") == {"hello": "ann", "n": 1}
    assert any(o["id"] == "myapp.users.sync" for o in wire.ops(service="myapp"))
    with pytest.raises(opdeck.ValidationError):
        wire.call("myapp.users.sync", name=1)
    assert wire.myapp.users.sync(name="bob")["hello"] == "bob"
    # `sync` is a Rhai keyword: the script calls the plugin by its id.
    out = wire.run_script('let r = call("myapp.users.sync", #{ name: "rhai" }); r.hello + "!"')
    assert out == "rhai!"


def test_an_async_plugin_is_an_operation(wire: opdeck.Deck) -> None:
    @wire.operation("myapp.users.later")
    async def later(input: dict[str, Any]) -> list[int]:
        await asyncio.sleep(0.01)
        return [1, 2, 3]

    assert wire.call("myapp.users.later") == [1, 2, 3]
    assert asyncio.run(wire.acall("myapp.users.later")) == [1, 2, 3]
    assert wire.run_script('call("myapp.users.later", #{}).len()') == 3


def test_a_failing_plugin_raises_its_own_exception(wire: opdeck.Deck) -> None:
    class NoSuchUser(LookupError):
        def __init__(self, name: str) -> None:
            super().__init__(f"no such user {name}")
            self.name = name

    @wire.operation("myapp.users.fail", input_schema={"type": "object", "properties": {"name": {"type": "string"}}})
    def fail(input: dict[str, Any]) -> None:
        raise NoSuchUser(input.get("name", "?"))

    # The caller catches the class the plugin raised, with its attributes,
    # from sync, async and bulk calls alike.
    with pytest.raises(NoSuchUser) as info:
        wire.call("myapp.users.fail", name="ann")
    assert info.value.name == "ann" and "no such user ann" in str(info.value)
    with pytest.raises(NoSuchUser):
        asyncio.run(wire.acall("myapp.users.fail", name="bob"))
    [failed] = wire.call_many([("myapp.users.fail", {"name": "cy"})])
    assert isinstance(failed, NoSuchUser) and failed.name == "cy"
    # A Rhai script that calls it fails as a script, with the plugin's reason.
    with pytest.raises(opdeck.ScriptError) as script:
        wire.run_script('call("myapp.users.fail", #{ name: "dee" })')
    assert "no such user dee" in str(script.value)


def test_run_script_with_args(mock: opdeck.Deck) -> None:
    assert mock.run_script("args.a + args.b", args={"a": "x", "b": "y"}) == "xy"
    assert mock.run_script("argv.len()", args=["p1", "p2"]) == 2
    assert isinstance(mock.run_script("wildduck.users.getUsers()"), dict)


def test_import_starts_no_thread_and_is_fast() -> None:
    code = (
        "import os, time; t=time.perf_counter(); import opdeck; dt=time.perf_counter()-t; "
        "print(dt, len(os.listdir('/proc/self/task')))"
    )
    best = min(float(subprocess.check_output([sys.executable, "-c", code], text=True).split()[0]) for _ in range(3))
    out = subprocess.check_output([sys.executable, "-c", code], text=True).split()
    assert out[1] == "1", "import opdeck started a thread"
    assert best < 0.05, f"import took {best * 1000:.1f} ms"
    # Threads appear only with the first call.
    code2 = "import opdeck, os; d = opdeck.Deck(); print(len(os.listdir('/proc/self/task')))"
    assert subprocess.check_output([sys.executable, "-c", code2], text=True).strip() == "1"


def test_repr_shows_no_secret(wire: opdeck.Deck) -> None:
    from conftest import SECRET

    assert SECRET not in repr(wire)
    assert "opdeck.Deck" in repr(wire)
