"""Added specs: the spec's own server, kept base URLs, spec list/show/remove (issue 14, finding 6)."""

import json

import pytest

from conftest import error_json
from loopback import Loopback

OPENAPI = """openapi: 3.0.3
info: {{title: petstore, version: "1"}}
servers:
  - url: {url}/v1
paths:
  /pets:
    get:
      operationId: listPets
      tags: [pets]
      responses: {{"200": {{description: ok}}}}
"""

SWAGGER = """swagger: "2.0"
info: {{title: petstore, version: "1"}}
schemes: [http]
host: {host}
basePath: /v2
paths:
  /pets:
    get:
      operationId: listPets
      tags: [pets]
      responses: {{"200": {{description: ok}}}}
"""


@pytest.fixture
def server():
    srv = Loopback(lambda method, path, headers, body: (200, [{"path": path}]))
    yield srv
    srv.close()


def test_spec_add_without_a_base_url_uses_the_specs_first_server(run, tmp_path, server):
    # Failed on main: the call said "no base url".
    (tmp_path / "petstore.yaml").write_text(OPENAPI.format(url=server.url), encoding="utf-8")
    run("spec", "add", "petstore", "./petstore.yaml", check=0)
    out = json.loads(run("call", "petstore.pets.listPets", check=0).stdout)
    assert out == [{"path": "/v1/pets"}]


def test_a_swagger_2_spec_uses_scheme_host_and_base_path(run, tmp_path, server):
    host = server.url.removeprefix("http://")
    (tmp_path / "petstore.yaml").write_text(SWAGGER.format(host=host), encoding="utf-8")
    run("spec", "add", "petstore", "./petstore.yaml", check=0)
    out = json.loads(run("call", "petstore.pets.listPets", check=0).stdout)
    assert out == [{"path": "/v2/pets"}]


def test_adding_again_keeps_the_given_base_url_unless_a_new_one_is_given(run, tmp_path, server):
    # Failed on main: the second add dropped --base-url.
    (tmp_path / "petstore.yaml").write_text(OPENAPI.format(url="http://127.0.0.1:9"), encoding="utf-8")
    run("spec", "add", "petstore", "./petstore.yaml", "--base-url", server.url + "/given", check=0)
    run("spec", "add", "petstore", "./petstore.yaml", check=0)
    out = json.loads(run("call", "petstore.pets.listPets", check=0).stdout)
    assert out == [{"path": "/given/pets"}]
    run("spec", "add", "petstore", "./petstore.yaml", "--base-url", server.url + "/new", check=0)
    out = json.loads(run("call", "petstore.pets.listPets", check=0).stdout)
    assert out == [{"path": "/new/pets"}]


def test_spec_list_show_and_remove(run, tmp_path, server):
    # Failed on main: there was no `spec list` and no `spec show`.
    (tmp_path / "petstore.yaml").write_text(OPENAPI.format(url=server.url), encoding="utf-8")
    run("spec", "add", "petstore", "./petstore.yaml", check=0)
    listed = json.loads(run("spec", "list", "--json", check=0).stdout)
    assert listed == [
        {"name": "petstore", "base_url": server.url + "/v1", "base_url_from": "spec", "operations": 1, "origin": "./petstore.yaml"}
    ]
    table = run("spec", "list", check=0).stdout.splitlines()
    assert table[0].split() == ["NAME", "BASE", "URL", "OPERATIONS", "ORIGIN"]
    assert table[1].startswith("petstore") and server.url in table[1]
    shown = json.loads(run("spec", "show", "petstore", check=0).stdout)
    assert shown["spec"]["title"] == "petstore" and shown["operations"] == 1
    err = error_json(run("spec", "show", "petstor", check=3))
    assert err["suggestions"] == ["petstore"]
    run("spec", "remove", "petstore", check=0)
    assert json.loads(run("spec", "list", "--json", check=0).stdout) == []
