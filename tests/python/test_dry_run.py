"""The dry run shows what would be sent and never a secret (issue 14, finding 7)."""

import os

from conftest import ROOT

CREATE_ANN = '{"body": {"username": "ann", "password": "secretpw1"}}'


def test_dry_run_never_prints_a_password_from_the_body(run):
    # Failed on main: the password was printed in clear.
    proc = run("call", "wildduck.users.createUser", "--input", CREATE_ANN, "--dry-run", "--mock", check=0)
    assert "secretpw1" not in proc.stdout + proc.stderr
    assert '"password":"<redacted>"' in proc.stdout
    assert '"username":"ann"' in proc.stdout


def test_dry_run_shows_no_credential_header_when_none_is_configured(run):
    # Failed on main: `X-Access-Token: <redacted>` was shown with no token set.
    proc = run("call", "wildduck.users.createUser", "--input", CREATE_ANN, "--dry-run", "--mock", check=0)
    assert "X-Access-Token" not in proc.stdout


def test_dry_run_shows_the_credential_header_when_a_token_is_configured(run):
    env = {"OPDECK_WILDDUCK_URL": "http://mail.example.test:8080", "OPDECK_WILDDUCK_TOKEN": "tok-SECRET-9"}
    proc = run("call", "wildduck.users.createUser", "--input", CREATE_ANN, "--dry-run", env=env, check=0)
    assert "X-Access-Token: <redacted>" in proc.stdout
    assert "tok-SECRET-9" not in proc.stdout + proc.stderr


def test_dracoon_dry_run_without_a_url_uses_the_placeholder_and_says_so(run):
    # Failed on main: "no base url for service `dracoon`", exit 1.
    proc = run("call", "dracoon.users.requestUsers", "--dry-run", check=0)
    assert "https://tenant.example/api/v4/users" in proc.stdout
    assert "no base url" in proc.stderr and "tenant.example" in proc.stderr


def test_onboard_rhai_dry_run_needs_no_password(run):
    # Failed on main: env("ONBOARD_PASSWORD") refused without --allow-env.
    env = {k: "" for k in ("ONBOARD_PASSWORD",) if k in os.environ}
    script = str(ROOT / "scripts" / "onboard.rhai")
    proc = run("run", script, "name=Ann Lee", "email=ann.lee@example.com", "--dry-run", "--mock", env=env, check=0)
    assert "Plan done: nothing was sent." in proc.stdout
    assert '"password":"<redacted>"' in proc.stdout


def test_onboard_rhai_dry_run_redacts_a_given_password(run):
    script = str(ROOT / "scripts" / "onboard.rhai")
    proc = run("run", script, "name=Ann Lee", "email=ann.lee@example.com", "password=secretpw1", "--dry-run", "--mock", check=0)
    assert "secretpw1" not in proc.stdout + proc.stderr
