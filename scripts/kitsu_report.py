"""Kitsu projects with their task counts, per task status (the Python twin of kitsu_report.rhai).

    python scripts/kitsu_report.py [--all] [--mock]

By default only projects whose status is "Open"; with --all every project.
The task lists are fetched concurrently inside opdeck (`call_many`), one call
per project. `report()` returns [{id, name, status, tasks, by_status}, ...] by name.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, Callable, Optional

import opdeck


def report(deck: opdeck.Deck, only_open: bool = True, say: Callable[[str], None] = print) -> list[dict[str, Any]]:
    statuses = {s["id"]: s["name"] for s in deck.call("kitsu.projectStatus.list")}
    task_statuses = {s["id"]: s.get("short_name") or s["name"] for s in deck.call("kitsu.taskStatus.list")}

    # List routes filter on any column given in the query: the open status id.
    query: dict[str, Any] = {}
    if only_open:
        query = {"project_status_id": sid for sid, n in statuses.items() if n == "Open"}
        if not query:
            raise LookupError("kitsu_report: this Kitsu has no project status named Open")
    projects = sorted(deck.call("kitsu.projects.list", query), key=lambda p: p["name"])

    task_lists = deck.call_many([("kitsu.tasks.list", {"project_id": p["id"]}) for p in projects], limit=4)
    rows = []
    say(f"{len(projects)} {'open ' if only_open else ''}projects")
    for p, tasks in zip(projects, task_lists):
        if isinstance(tasks, BaseException):
            raise tasks
        by_status: dict[str, int] = {}
        for t in tasks:
            key = task_statuses.get(t.get("task_status_id"), "unknown")
            by_status[key] = by_status.get(key, 0) + 1
        by_status = dict(sorted(by_status.items()))
        status = statuses.get(p.get("project_status_id"), "unknown")
        detail = ", ".join(f"{k} {v}" for k, v in by_status.items())
        say(f"  {p['name']} [{status}]: {len(tasks)} tasks" + (f" ({detail})" if detail else ""))
        rows.append({"id": p["id"], "name": p["name"], "status": status, "tasks": len(tasks), "by_status": by_status})
    return rows


def main(argv: Optional[list[str]] = None) -> int:
    p = argparse.ArgumentParser(description="Kitsu projects with their task counts per status.")
    p.add_argument("--all", action="store_true", help="every project, not only the open ones")
    p.add_argument("--mock", action="store_true", help="answer every call from the built-in simulator")
    p.add_argument("--json", action="store_true", help="print the rows as JSON")
    a = p.parse_args(argv)
    deck = opdeck.Deck(mock=a.mock)
    try:
        rows = report(deck, only_open=not a.all, say=(lambda s: None) if a.json else print)
    except (opdeck.Error, LookupError) as e:
        print(f"kitsu_report: {e}", file=sys.stderr)
        return 1
    if a.json:
        print(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
