"""Onboarding of one new hire across the services we run (the Python twin of onboard.rhai):

  - WildDuck: a mail user, then its main address;
  - DRACOON: a user (DRACOON mails the initial password), optionally added to a group;
  - Kitsu: a person with a role.

    python scripts/onboard.py --name "Ann Lee" --email ann.lee@example.com \
        [--dracoon-group Staff|42] [--kitsu-role user] [--skip kitsu,dracoon] [--dry-run] [--mock]

The WildDuck password comes from --password or $ONBOARD_PASSWORD. With
--dry-run every write is printed as a plan (curl, credentials redacted) and
nothing is created; reads (the group lookup) still run. `onboard()` returns
{"wildduck": ..., "dracoon": ..., "kitsu": ...}: what was created, per service.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from typing import Any, Callable, Optional

import opdeck


def username_of(email: str) -> str:
    """WildDuck usernames are lowercase letters, digits and dots."""
    return re.sub(r"[^a-z0-9.]", "", email.split("@", 1)[0].lower())


def onboard(
    deck: opdeck.Deck,
    name: str,
    email: str,
    *,
    password: Optional[str] = None,
    dracoon_group: Optional[str] = None,
    kitsu_role: str = "user",
    skip: tuple[str, ...] = (),
    dry_run: bool = False,
    say: Callable[[str], None] = print,
) -> dict[str, Any]:
    name, email = name.strip(), email.strip()
    if not name:
        raise ValueError("onboard: missing name")
    if email.find("@") < 1:
        raise ValueError(f'onboard: "{email}" is not an email address')
    first, _, last = name.partition(" ")
    last = last or name

    def write(op: str, **input: Any) -> dict[str, Any]:
        if dry_run:
            # opdeck redacts credentials and secret fields (the password) in the plan.
            say(f"plan: {deck.prepare(op, input)}")
            return {}
        out = deck.call(op, input)
        return out if isinstance(out, dict) else {}

    done: dict[str, Any] = {}
    if dry_run:
        say(f"Plan for {name} <{email}> (dry run: nothing is created)")

    if "wildduck" not in skip:
        # A dry run creates nothing and needs no password; opdeck shows the field redacted.
        pw = password or os.environ.get("ONBOARD_PASSWORD") or ("(not needed in a dry run)" if dry_run else None)
        if not pw:
            raise ValueError("onboard: WildDuck needs a password or $ONBOARD_PASSWORD (or skip wildduck)")
        body = {
            "username": username_of(email),
            "name": name,
            "password": pw,
            "emptyAddress": True,
            "requirePasswordChange": True,
        }
        uid = write("wildduck.users.createUser", body=body).get("id", "<new wildduck user>")
        address = write("wildduck.addresses.createUserAddress", user=uid, body={"address": email, "name": name, "main": True})
        done["wildduck"] = {"id": uid, "address": email, "address_id": address.get("id")}
        say(f"wildduck: user {uid} ({username_of(email)}) with main address {email}")

    if "dracoon" not in skip:
        body = {
            "firstName": first,
            "lastName": last,
            "userName": email,
            "email": email,
            "notifyUser": True,
            "authData": {"method": "basic", "mustChangePassword": True},
        }
        uid = write("dracoon.users.createUser", body=body).get("id", "<new dracoon user>")
        done["dracoon"] = {"id": uid}
        say(f"dracoon: user {uid} ({email})")
        if dracoon_group:
            gid = dracoon_group_id(deck, dracoon_group)
            write("dracoon.groups.addGroupMembers", group_id=gid, body={"ids": [uid]})
            done["dracoon"]["group"] = gid
            say(f"dracoon: user {uid} added to group {gid}")

    if "kitsu" not in skip:
        body = {"first_name": first, "last_name": last, "email": email, "role": kitsu_role}
        pid = write("kitsu.persons.create", body=body).get("id", "<new kitsu person>")
        done["kitsu"] = {"id": pid, "role": kitsu_role}
        say(f"kitsu: person {pid} ({kitsu_role})")

    say("Plan done: nothing was sent." if dry_run else f"Onboarded {name} <{email}>.")
    return done


def dracoon_group_id(deck: opdeck.Deck, group: str) -> Any:
    """The id of a DRACOON group: given as a number, or looked up by exact name."""
    if group.isdigit():
        return int(group)
    found = deck.call("dracoon.groups.requestGroups", filter=f"name:cn:{group}")
    for g in found.get("items", []):
        if g.get("name") == group:
            return g["id"]
    raise LookupError(f'onboard: no DRACOON group is named "{group}"')


def main(argv: Optional[list[str]] = None) -> int:
    p = argparse.ArgumentParser(description="Onboard one new hire across WildDuck, DRACOON and Kitsu.")
    p.add_argument("--name", required=True)
    p.add_argument("--email", required=True)
    p.add_argument("--password")
    p.add_argument("--dracoon-group")
    p.add_argument("--kitsu-role", default="user")
    p.add_argument("--skip", default="", help="comma-separated services to leave out")
    p.add_argument("--dry-run", action="store_true")
    p.add_argument("--mock", action="store_true", help="answer every call from the built-in simulator")
    p.add_argument("--profile")
    a = p.parse_args(argv)
    deck = opdeck.Deck(profile=a.profile, mock=a.mock)
    try:
        done = onboard(
            deck,
            a.name,
            a.email,
            password=a.password,
            dracoon_group=a.dracoon_group,
            kitsu_role=a.kitsu_role,
            skip=tuple(s for s in a.skip.split(",") if s),
            dry_run=a.dry_run,
        )
    except (opdeck.Error, ValueError, LookupError) as e:
        print(f"onboard: {e}", file=sys.stderr)
        return 1
    print(json.dumps(done, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
