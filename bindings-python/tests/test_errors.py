"""Each error kind is its own class under opdeck.Error, with its fields."""

from __future__ import annotations

import pytest

import opdeck
from conftest import SECRET, Server

KINDS = {
    "UnknownOperation": "not_found",
    "SpecError": "spec",
    "ValidationError": "validation",
    "HttpError": "status",
    "TransportError": "transport",
    "TimeoutError": "timeout",
    "AuthError": "auth",
    "DecodeError": "decode",
    "ConfigError": "config",
    "UsageError": "usage",
    "IoError": "io",
    "ScriptError": "script",
    "LimitError": "limit",
    "PolicyError": "policy",
    "InternalError": "internal",
}


def test_every_kind_has_its_class_under_error() -> None:
    for name, kind in KINDS.items():
        cls = getattr(opdeck, name)
        assert issubclass(cls, opdeck.Error), name
        assert cls.kind == kind
        assert cls.__module__ == "opdeck"
        assert cls.__doc__
    assert issubclass(opdeck.TimeoutError, TimeoutError)
    assert issubclass(opdeck.Error, Exception)


def test_http_error_has_status_body_headers_and_operation(wire: opdeck.Deck) -> None:
    with pytest.raises(opdeck.HttpError) as info:
        wire.call("wire.errors.getStatus", code=404)
    e = info.value
    assert (e.status, e.operation, e.kind) == (404, "wire.errors.getStatus", "status")
    assert e.body == {"error": "nope", "code": 404}
    assert e.headers is not None and e.headers["x-request-id"] == "req-42"
    assert "404" in str(e)
    assert SECRET not in repr(e) + str(e) + str(e.headers)


def test_validation_error_lists_every_violation(wire: opdeck.Deck, server: Server) -> None:
    with pytest.raises(opdeck.ValidationError) as info:
        wire.call("wire.items.createItem", body={"count": -1})
    v = info.value.violations
    assert v is not None and len(v) >= 2
    assert all(set(x) == {"path", "message"} for x in v)
    paths = {x["path"] for x in v}
    assert "/body/count" in paths
    assert any(p in ("/body", "/body/name") for p in paths)
    assert info.value.operation == "wire.items.createItem"
    assert server.requests == []


def test_unknown_operation_suggests_the_closest_ids(wire: opdeck.Deck) -> None:
    with pytest.raises(opdeck.UnknownOperation) as info:
        wire.call("wire.items.getIten")
    assert "wire.items.getItem" in (info.value.suggestions or [])


def test_timeout_error_is_also_the_builtin(server: Server) -> None:
    from conftest import wire_deck

    deck = wire_deck(server, timeout=0.3)
    with pytest.raises(TimeoutError) as info:
        deck.call("wire.errors.getSlow")
    assert isinstance(info.value, opdeck.TimeoutError)
    assert info.value.operation == "wire.errors.getSlow"


def test_transport_error_when_nothing_listens() -> None:
    deck = opdeck.Deck(builtins=False, credentials={"wire": "t"})
    import socket
    from conftest import SPECS

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    deck.add_source("wire", str(SPECS / "wire.json"), base_url=f"http://127.0.0.1:{port}")
    with pytest.raises(opdeck.TransportError) as info:
        deck.call("wire.items.listItems")
    assert info.value.operation == "wire.items.listItems"


def test_auth_error_when_credentials_are_missing(server: Server) -> None:
    from conftest import SPECS

    deck = opdeck.Deck(builtins=False)
    deck.add_source("wire", str(SPECS / "wire.json"), base_url=server.url)
    with pytest.raises(opdeck.AuthError):
        deck.call("wire.items.listItems")


def test_policy_error_on_a_read_only_deck(server: Server) -> None:
    from conftest import wire_deck

    deck = wire_deck(server, read_only=True)
    with pytest.raises(opdeck.PolicyError) as info:
        deck.call("wire.items.createItem", body={"name": "x"})
    assert info.value.operation == "wire.items.createItem"
    assert deck.call("wire.items.listItems")  # reads still run
    assert server.count("/items") == 1


def test_spec_error_on_an_unusable_document() -> None:
    deck = opdeck.Deck(builtins=False)
    with pytest.raises(opdeck.SpecError):
        deck.add_source("broken", '{"openapi": "3.0.0", "paths": {"/x": {"get": {"responses": {"200": {"$ref": "#/nope"}}}}}}')


def test_an_unknown_builtin_service_is_not_found() -> None:
    with pytest.raises(opdeck.UnknownOperation) as info:
        opdeck.Deck(builtins=["kitsuu"])
    assert "kitsu" in (info.value.suggestions or [])


def test_config_error_names_the_file() -> None:
    with pytest.raises(opdeck.ConfigError) as info:
        opdeck.Deck(config="/nonexistent/opdeck.toml")
    assert "/nonexistent/opdeck.toml" in str(info.value) and info.value.kind == "config"


def test_io_error_names_the_file() -> None:
    deck = opdeck.Deck(builtins=False)
    with pytest.raises(opdeck.IoError) as info:
        deck.add_source("x", "/nonexistent/spec.json")
    assert "/nonexistent/spec.json" in str(info.value)


def test_decode_error_when_the_body_is_not_its_content_type(server: Server) -> None:
    from conftest import wire_deck

    server.handler = lambda req: (200, {"content-type": "application/json"}, b"{not json") if req.path == "/items" else None
    deck = wire_deck(server)
    with pytest.raises(opdeck.DecodeError) as info:
        deck.call("wire.items.listItems")
    assert info.value.operation == "wire.items.listItems" and info.value.kind == "decode"


def test_limit_error_when_a_script_runs_away() -> None:
    deck = opdeck.Deck(builtins=False)
    with pytest.raises(opdeck.LimitError) as info:
        deck.run_script("loop {}", name="spin.rhai")
    assert "max_operations" in str(info.value) and "spin.rhai" in str(info.value)


def test_a_type_python_cannot_send_is_a_type_error(wire: opdeck.Deck) -> None:
    with pytest.raises(TypeError):
        wire.call("wire.items.createItem", body={"name": object()})
    with pytest.raises(ValueError):
        wire.call("wire.items.createItem", body={"name": "x", "count": float("nan")})


def test_script_errors_carry_the_position() -> None:
    deck = opdeck.Deck(builtins=False)
    with pytest.raises(opdeck.ScriptError) as info:
        deck.run_script('throw "boom";', name="t.rhai")
    assert "boom" in str(info.value)


def test_call_many_returns_failures_as_exception_values(wire: opdeck.Deck) -> None:
    out = wire.call_many([("wire.items.listItems", {}), ("wire.errors.getStatus", {"code": 409}), ("nope.x.y", {})])
    assert out[0] == [{"name": "a", "count": 1}, {"name": "b", "count": 2}]
    assert isinstance(out[1], opdeck.HttpError) and out[1].status == 409
    assert isinstance(out[2], opdeck.UnknownOperation)
