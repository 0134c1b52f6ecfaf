"""Two workers on one PostgreSQL database: every deadline fires exactly once.

This is how cswork scales past one machine: any number of ``cswork run``
workers, on any hosts, against one PostgreSQL. Each wakes at the earliest due
time it knows of (and when another process arms an earlier one: LISTEN/NOTIFY),
claims due timers with ``FOR UPDATE … SKIP LOCKED``, and fires them in the
claiming transaction.

Needs: ``pip install '.[postgres]'`` and a PostgreSQL server. Run:

    CSWORK_PG_DSN=postgresql://user@host/db python examples/two_workers_postgres.py

It uses a fresh schema and drops it at the end. It starts two real worker
processes (``cswork run``), then starts cases whose deadlines fall due a
few seconds later, and shows which worker fired which deadline.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

from cswork import Actor, Engine
from cswork.storage.url import open_store

WORKFLOW = """
workflow: callback
version: 1
title: Call the customer back
roles: {cs_agent: agents}
fields: {customer_id: {type: string}}
states:
  waiting: {initial: true}
  called: {final: true, outcome: resolved}
start: {roles: [cs_agent], requires: [customer_id]}
transitions:
  - {event: call, from: waiting, to: called, roles: [cs_agent]}
deadlines:
  call_back:
    scope: [waiting]
    after: 3s
    basis: wall
    on_due: [{notify: [cs_agent], message: call the customer back}]
"""


def main(dsn: str) -> None:
    schema = f"example_{uuid.uuid4().hex[:8]}"
    url = f"{dsn}{'&' if '?' in dsn else '?'}schema={schema}"
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "callback.yaml").write_text(WORKFLOW)
        engine = Engine.from_directory(tmp, store=open_store(url))  # creates the tables
        workers = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "cswork",
                    "run",
                    "--store",
                    url,
                    "--workflows",
                    tmp,
                    "--poll",
                    "1",
                    "--for",
                    "9",
                ],
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            for _ in range(2)
        ]
        time.sleep(2)  # let both start
        agent = Actor("li.na", {"cs_agent"})
        cases = [
            engine.start("callback", agent, {"customer_id": f"C-{n}"})
            for n in range(30)
        ]
        engine.fire(
            cases[0].id, "call", agent
        )  # called in time: its deadline is cancelled
        print(f"started {len(cases)} cases; their call-backs are due in 3 s")
        logs = [w.communicate(timeout=60)[0] for w in workers]
        fired = Counter()
        timers = []
        for case in cases:
            for h in engine.history(case.id):
                if h.kind == "deadline":
                    fired[str(h.detail.get("worker"))] += 1
                    timers.append(h.detail["timer"])
        print("deadlines fired per worker:", dict(fired))
        assert len(timers) == len(set(timers)) == len(cases) - 1, "exactly once each"
        print(f"{len(timers)} deadlines, each fired exactly once; 1 met in time")
        for n, log in enumerate(logs):
            print(f"worker {n}: {log.strip().splitlines()[-1]}")
        engine.store.close()
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


if __name__ == "__main__":
    dsn = os.environ.get("CSWORK_PG_DSN") or os.environ.get("CSWORK_TEST_PG_DSN")
    if not dsn:
        print(
            "needs a PostgreSQL server: set CSWORK_PG_DSN=postgresql://…",
            file=sys.stderr,
        )
        raise SystemExit(2)
    main(dsn)
