"""A Celery app whose tasks call through opdeck: the pattern the README shows.

Each prefork child builds its own deck when it starts (`worker_process_init`):
a deck's connections and runtime belong to the process that built it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Optional

from celery import Celery
from celery.signals import worker_process_init

import opdeck

SPEC = Path(__file__).resolve().parent / "specs" / "wire.json"
broker = os.environ.get("OPDECK_TEST_BROKER", "redis://127.0.0.1:63799/7")
app = Celery("opdeck_test", broker=broker, backend=broker)
app.conf.update(task_serializer="json", result_serializer="json", accept_content=["json"], broker_connection_retry_on_startup=True)

deck: Optional[opdeck.Deck] = None


def make_deck() -> opdeck.Deck:
    d = opdeck.Deck(builtins=False, credentials={"wire": "celery-token"})
    d.add_source("wire", str(SPEC), base_url=os.environ["OPDECK_TEST_WIRE_URL"])
    return d


@worker_process_init.connect
def _build_deck(**_: Any) -> None:
    global deck
    deck = make_deck()


@app.task(name="opdeck_test.get_item")
def get_item(i: int) -> dict[str, Any]:
    assert deck is not None, "worker_process_init did not run"
    out = deck.call("wire.items.getItem", item_id=str(i))
    return {"i": i, "z": out["z"], "pid": os.getpid()}
