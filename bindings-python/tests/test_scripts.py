"""scripts/onboard.py and scripts/kitsu_report.py on the simulator and on live
Zou; the report matches the Rhai original run on the same deck."""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType
from typing import Any

import opdeck
from conftest import ROOT, Zou, kitsu_op


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


def rhai_report(deck: opdeck.Deck, only_open: bool) -> Any:
    source = (ROOT / "scripts" / "kitsu_report.rhai").read_text()
    return deck.run_script(source, args={"open": "true" if only_open else "false"}, name="kitsu_report.rhai")


def test_onboard_on_the_simulator_creates_on_three_services() -> None:
    onboard = load("onboard")
    lines: list[str] = []
    done = onboard.onboard(
        opdeck.Deck(mock=True), "Ann Lee", "Ann.Lee@example.com", password="pw-123456", say=lines.append
    )
    assert set(done) == {"wildduck", "dracoon", "kitsu"}
    assert done["wildduck"]["address"] == "Ann.Lee@example.com"
    assert done["kitsu"]["role"] == "user"
    assert lines[-1] == "Onboarded Ann Lee <Ann.Lee@example.com>."


def test_onboard_dry_run_prints_plans_without_secrets(server: Any) -> None:
    onboard = load("onboard")
    lines: list[str] = []
    deck = opdeck.Deck(mock=True)
    done = onboard.onboard(deck, "Ann Lee", "ann@example.com", password="pw-SECRET-1", skip=("dracoon",), dry_run=True, say=lines.append)
    assert "pw-SECRET-1" not in "\n".join(lines)
    assert sum(1 for line in lines if line.startswith("plan: curl")) == 3
    assert lines[-1] == "Plan done: nothing was sent."
    assert set(done) == {"wildduck", "kitsu"}


def test_kitsu_report_on_the_simulator_matches_the_rhai_script() -> None:
    report = load("kitsu_report")
    deck = opdeck.Deck(mock=True)
    for only_open in (False, True):
        try:
            ours = report.report(deck, only_open=only_open, say=lambda s: None)
        except LookupError:
            continue
        assert ours == rhai_report(deck, only_open)


def test_kitsu_report_on_live_zou_matches_the_rhai_script(zou: Zou) -> None:
    report = load("kitsu_report")
    deck = zou.deck()
    ours = report.report(deck, only_open=False, say=lambda s: None)
    assert ours == rhai_report(deck, False)
    opened = report.report(deck, only_open=True, say=lambda s: None)
    assert all(r["status"] == "Open" for r in opened)


def test_onboard_on_live_zou_creates_the_kitsu_person(zou: Zou) -> None:
    onboard = load("onboard")
    deck = zou.deck()
    import time

    email = f"py-onboard-{time.time_ns()}@example.com"
    done = onboard.onboard(deck, "Py Onboard", email, skip=("wildduck", "dracoon"), say=lambda s: None)
    pid = done["kitsu"]["id"]
    try:
        person = deck.call(kitsu_op(deck, "GET", "/data/persons/{instance_id}"), instance_id=pid)
        assert person["email"] == email
    finally:
        deck.call(kitsu_op(deck, "DELETE", "/data/persons/{instance_id}"), instance_id=pid, force=True)
