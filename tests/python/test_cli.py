"""The opdeck command line as an ops engineer uses it: exit codes, JSON shapes, redaction.

Exit codes (README, `opdeck --help`): 2 usage or validation, 3 unknown operation,
4 auth, 5 HTTP 4xx, 6 HTTP 5xx, 7 network or timeout, 8 refused by policy.
"""

import json
import os

import pytest

from conftest import ROOT, error_json

BUILTIN = {"seald": 109, "dracoon": 297, "selfprivacy": 48, "wildduck": 106, "kitsu": 853}


def test_services_lists_the_five_builtin_services_with_their_counts(run):
    proc = run("services", "--json", check=0)
    counts = {s["name"]: s["operations"] for s in json.loads(proc.stdout)}
    assert {k: counts[k] for k in BUILTIN} == BUILTIN
    assert counts["openapi"] == 2


def test_ops_json_has_the_documented_fields_and_unique_ids(run):
    ops = json.loads(run("ops", "--json", "--service", "wildduck", check=0).stdout)
    assert len(ops) == 106
    for op in ops:
        assert {"id", "alias", "method", "path", "summary", "deprecated"} <= op.keys()
        assert op["id"].startswith("wildduck.")
    assert len({op["id"] for op in ops}) == len(ops)
    by_id = {op["id"]: op for op in ops}
    assert by_id["wildduck.users.getUsers"]["method"] == "GET"
    assert by_id["wildduck.users.getUsers"]["path"] == "/users"


def test_dracoon_since_filter_keeps_only_newer_operations(run):
    ops = json.loads(run("ops", "--json", "--service", "dracoon", "--since", "4.30", check=0).stdout)
    assert ops, "some DRACOON operations are newer than 4.30"
    for op in ops:
        major, minor = (int(x) for x in op["since"].split(".")[:2])
        assert (major, minor) >= (4, 30), op


def test_unknown_operation_exits_3_and_suggests_the_closest_ids(run):
    proc = run("describe", "wildduck.users.getUsr", check=3)
    err = error_json(proc)
    assert err["kind"] == "not_found"
    assert "wildduck.users.getUser" in err["suggestions"]


def test_validation_errors_exit_2_and_list_every_violation(run):
    # The former id of kitsu.persons.create still resolves (issue 14).
    proc = run("call", "kitsu.crud.postDataPersons", "--mock", "--input", '{"body": {"first_name": 1}}', check=2)
    err = error_json(proc)
    assert err["kind"] == "validation"
    paths = {v["path"] for v in err["violations"]}
    assert "/body/first_name" in paths
    assert any("last_name" in v["message"] for v in err["violations"])


def test_dry_run_prints_curl_and_never_the_token(run):
    secret = "s3cret-token-value"
    proc = run(
        "call", "wildduck.users.getUsers", "query=ann", "--dry-run",
        env={"OPDECK_WILDDUCK_URL": "http://mail.example.test:8080", "OPDECK_WILDDUCK_TOKEN": secret},
        check=0,
    )
    assert proc.stdout.startswith("curl")
    assert "http://mail.example.test:8080/users?query=ann" in proc.stdout
    assert "X-Access-Token: <redacted>" in proc.stdout
    assert secret not in proc.stdout + proc.stderr


def test_mock_calls_are_labelled_simulated_and_return_json(run):
    proc = run("call", "wildduck.users.getUser", "id=59fc66a03e54454869460e45", "--mock", check=0)
    assert "simulated" in proc.stderr
    body = json.loads(proc.stdout)
    assert isinstance(body, dict) and "id" in body


def test_the_tour_runs_on_the_simulator(run):
    proc = run("run", str(ROOT / "scripts" / "tour.rhai"), "--mock", check=0)
    assert "1413" in proc.stdout or "1415" in proc.stdout
    assert "kitsu" in proc.stdout and "person" in proc.stdout


@pytest.fixture
def zou_env():
    needed = ["OPDECK_KITSU_URL", "OPDECK_KITSU_USERNAME", "OPDECK_KITSU_PASSWORD"]
    env = {k: os.environ.get(k) for k in needed}
    if not all(env.values()):
        if os.environ.get("CI"):
            pytest.fail("the live Zou peer is missing under CI (start it with tests/peers/zou.sh start)")
        pytest.skip("no live Zou: start it with `eval \"$(bash tests/peers/zou.sh start)\"`")
    return env


def test_http_4xx_errors_exit_5_with_operation_status_and_body_on_stderr(run, zou_env):
    missing = "00000000-0000-0000-0000-000000000000"
    proc = run("call", "kitsu.projects.get", f"instance_id={missing}", env=zou_env, check=5)
    err = error_json(proc)
    assert err["operation"] == "kitsu.projects.get"
    assert err["status"] == 404
    assert "body" in err
    assert zou_env["OPDECK_KITSU_PASSWORD"] not in proc.stderr


def test_live_kitsu_list_with_a_filter_on_an_undeclared_field(run, zou_env):
    proc = run("call", "kitsu.projectStatus.list", "name=Closed", env=zou_env, check=0)
    statuses = json.loads(proc.stdout)
    assert [s["name"] for s in statuses] == ["Closed"]


def test_read_only_refuses_a_write_and_names_the_rule(run):
    proc = run("--read-only", "call", "wildduck.users.deleteUser", "user=5f1e6d2c9b7a3e0011223344", "--mock", check=8)
    err = error_json(proc)
    assert err["kind"] == "policy"
    assert err["operation"] == "wildduck.users.deleteUser"
    assert "read-only" in err["message"]
    # Reads still run.
    run("--read-only", "call", "wildduck.users.getUsers", "--mock", check=0)


def test_the_config_files_policy_table_is_enforced(run, tmp_path):
    (tmp_path / "opdeck.toml").write_text(
        '[profiles.default.policy]\nrules = ["deny DELETE wildduck.*"]\n', encoding="utf-8"
    )
    proc = run("call", "wildduck.users.deleteUser", "user=5f1e6d2c9b7a3e0011223344", "--mock", check=8)
    err = error_json(proc)
    assert err["kind"] == "policy"
    assert "deny DELETE wildduck.*" in err["message"]
    (tmp_path / "opdeck.toml").write_text('[profiles.default.policy]\nrules = ["forbid *"]\n', encoding="utf-8")
    proc = run("call", "wildduck.users.getUsers", "--mock", check=2)
    assert "policy.rules[0]" in error_json(proc)["message"]


def test_mock_state_keeps_what_a_call_created_for_the_next_run(run, tmp_path):
    state = tmp_path / "state.json"
    made = json.loads(run("call", "kitsu.projects.create", "body.name=Demo", "--mock-state", str(state), check=0).stdout)
    listed = json.loads(run("call", "kitsu.projects.list", "--all", "--mock-state", str(state), check=0).stdout)
    assert made["id"] in [p["id"] for p in listed]
    assert "Demo" in [p["name"] for p in listed]
    saved = json.loads(state.read_text(encoding="utf-8"))
    assert len(saved["kitsu"]["/data/projects"]) == len(listed)
    # A state file that is not JSON is refused before anything runs, naming the file.
    state.write_text("{oops", encoding="utf-8")
    proc = run("call", "kitsu.projects.list", "--mock-state", str(state), check=2)
    assert "state.json" in error_json(proc)["message"]


def test_mock_seed_makes_a_run_repeatable(run):
    a = run("call", "kitsu.projects.list", "--mock-seed", "7", check=0).stdout
    b = run("call", "kitsu.projects.list", "--mock-seed", "7", check=0).stdout
    c = run("call", "kitsu.projects.list", "--mock-seed", "8", check=0).stdout
    assert a == b
    assert a != c
