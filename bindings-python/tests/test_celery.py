"""Bulk jobs on an existing task engine: a Celery worker with 2 prefork
processes, Redis from the Zou peer as broker, runs 200 tasks through opdeck."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid

from conftest import HERE, Server, peer_missing


def redis_url() -> str:
    port = int(os.environ.get("ZOU_KV_PORT", "63799"))
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except OSError as e:
        peer_missing("redis (from the zou peer)", f"127.0.0.1:{port}: {e}")
    return f"redis://127.0.0.1:{port}/7"


def test_a_celery_worker_runs_200_tasks_through_opdeck(server: Server) -> None:
    server.record = True
    broker = redis_url()
    queue = f"opdeck-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "OPDECK_TEST_BROKER": broker, "OPDECK_TEST_WIRE_URL": server.url, "PYTHONPATH": str(HERE)}
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "celery_app", "worker", "--pool=prefork", "--concurrency=2",
         "--without-gossip", "--without-mingle", "--without-heartbeat", "-Q", queue, "--loglevel=WARNING"],
        cwd=HERE, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    try:
        sys.path.insert(0, str(HERE))
        os.environ["OPDECK_TEST_BROKER"] = broker
        import celery_app
        from celery import group

        celery_app.app.conf.broker_url = broker
        celery_app.app.conf.result_backend = broker
        result = group(celery_app.get_item.s(i).set(queue=queue) for i in range(200)).apply_async()
        out = result.get(timeout=120)
        assert [o["i"] for o in out] == list(range(200))
        assert all(o["z"] == 1 for o in out)
        assert len({o["pid"] for o in out}) <= 2
        assert server.count("/items/0") == 1
        assert sum(1 for r in server.requests if r.path.startswith("/items/")) == 200
        result.forget()
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            log, _ = worker.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            log, _ = worker.communicate()
        sys.path.remove(str(HERE)) if str(HERE) in sys.path else None
    assert worker.returncode in (0, -signal.SIGTERM), log.decode(errors="replace")[-3000:]
    time.sleep(0)
