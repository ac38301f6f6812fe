"""The exact requests on the wire, checked by a loopback server: path and
query styles, JSON, form and multipart bodies, the three auth headers, and
bodies that come back as dict (in order), str and bytes."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import opdeck
from conftest import ORDERED, SECRET, Server


def test_path_query_and_header_parameters_are_styled_as_the_spec_says(wire: opdeck.Deck, server: Server) -> None:
    wire.call(
        "wire.items.getItem",
        item_id="a b/c",
        tags=["x", "y"],
        ids=[1, 2],
        filter={"k": "v"},
        q="ann & co",
        **{"X-Trace": "t-1"},
    )
    req = server.last()
    assert req.method == "GET"
    assert req.path == "/items/a%20b%2Fc"
    pairs = req.query.split("&")
    assert pairs[:2] == ["tags=x", "tags=y"]
    assert pairs[2] in ("ids=1,2", "ids=1%2C2")
    assert pairs[3] in ("filter[k]=v", "filter%5Bk%5D=v")
    assert pairs[4] in ("q=ann%20%26%20co", "q=ann+%26+co")
    assert req.header("x-trace") == "t-1"


def test_a_simple_array_in_the_path_is_comma_joined(wire: opdeck.Deck, server: Server) -> None:
    wire.call("wire.items.getLabels", labels=["a", "b"])
    assert server.last().path in ("/labels/a,b", "/labels/a%2Cb")


def test_the_dict_input_and_keywords_merge(wire: opdeck.Deck, server: Server) -> None:
    wire.call("wire.items.getItem", {"item_id": "one", "q": "dict"}, q="keyword")
    assert server.last().path == "/items/one"
    assert server.last().query == "q=keyword"


def test_json_bodies_are_sent_as_json_and_answers_keep_their_key_order(wire: opdeck.Deck, server: Server) -> None:
    out = wire.call("wire.items.createItem", body={"name": "x", "count": 3})
    req = server.last()
    assert (req.method, req.path) == ("POST", "/items")
    assert req.header("content-type") == "application/json"
    assert json.loads(req.body) == {"name": "x", "count": 3}
    assert out == {"name": "x", "count": 3}

    got = wire.call("wire.items.getItem", item_id="1")
    assert got == json.loads(ORDERED)
    assert list(got) == ["z", "a", "m", "k"]
    assert list(got["a"]) == ["y", "b"]
    assert got["m"] == [1, "x", None, True, 1.5]


def test_form_bodies_are_url_encoded(wire: opdeck.Deck, server: Server) -> None:
    assert wire.call("wire.bodies.postForm", body={"a": "b c&d", "n": 5}) is None
    req = server.last()
    assert req.header("content-type") == "application/x-www-form-urlencoded"
    assert req.body == b"a=b+c%26d&n=5"


def test_multipart_bodies_carry_fields_and_a_streamed_file(wire: opdeck.Deck, server: Server, tmp_path: Path) -> None:
    path = tmp_path / "report.csv"
    path.write_bytes(b"a,b\n1,2\n")
    wire.call("wire.bodies.upload", body={"title": "Q4", "file": {"path": str(path)}})
    req = server.last()
    ctype = req.header("content-type") or ""
    assert ctype.startswith("multipart/form-data; boundary=")
    boundary = ctype.split("boundary=", 1)[1].strip('"').encode()
    parts = [p for p in req.body.split(b"--" + boundary) if p.strip() not in (b"", b"--")]
    by_name = {}
    for part in parts:
        head, _, data = part.partition(b"\r\n\r\n")
        name = head.split(b'name="', 1)[1].split(b'"', 1)[0].decode()
        by_name[name] = (head, data[:-2] if data.endswith(b"\r\n") else data)
    assert by_name["title"][1] == b"Q4"
    assert b'filename="report.csv"' in by_name["file"][0]
    assert by_name["file"][1] == b"a,b\n1,2\n"


def test_bearer_api_key_and_basic_credentials_reach_their_headers(wire: opdeck.Deck, server: Server) -> None:
    wire.call("wire.items.listItems")
    assert server.last().header("authorization") == f"Bearer {SECRET}"
    wire.call("wirekey.items.listItems")
    assert server.last().header("x-api-key") == SECRET
    assert server.last().header("authorization") is None
    wire.call("wirebasic.items.listItems")
    expected = base64.b64encode(f"ann:{SECRET}".encode()).decode()
    assert server.last().header("authorization") == f"Basic {expected}"


def test_text_and_binary_bodies_stay_str_and_bytes(wire: opdeck.Deck) -> None:
    assert wire.call("wire.bodies.getText") == "héllo\nworld"
    blob = wire.call("wire.bodies.getBlob")
    assert isinstance(blob, bytes) and blob == b"\x00\x01\xfe\xff"


def test_call_full_has_status_headers_and_body(wire: opdeck.Deck) -> None:
    out = wire.call_full("wire.items.createItem", body={"name": "x"})
    assert isinstance(out, opdeck.Response)
    assert out.status == 201
    assert out.headers["content-type"] == "application/json"
    assert out.body == {"name": "x"}
    assert repr(out) == "<Response 201>"


def test_prepare_renders_curl_with_the_secret_redacted(wire: opdeck.Deck, server: Server) -> None:
    text = wire.prepare("wire.items.getItem", item_id="7", q="x")
    assert text.startswith("curl")
    assert f"{server.url}/items/7?q=x" in text
    assert SECRET not in text
    assert "redacted" in text
    assert server.requests == []
