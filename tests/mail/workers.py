"""Worker processes for tests where two real processes race: each uses the test database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any


def worker_env(**extra: str) -> dict[str, str]:
    """The environment of a worker process that uses the test database."""
    from django.db import connection

    db = connection.settings_dict
    host = f"?host={db['HOST']}" if str(db["HOST"]).startswith("/") else ""
    netloc = "" if host else f"{db['HOST']}:{db['PORT'] or 5432}"
    return os.environ | {
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": f"postgres://{db['USER']}@{netloc}/{db['NAME']}{host}",
        **extra,
    }


def start_worker(code: str, **env: str) -> subprocess.Popen[str]:
    """A worker process: sets Django up, says "ready", waits for a line on stdin, runs `code`
    (which has `json` and `sys` at hand and prints its result as JSON on its last line)."""
    worker = subprocess.Popen(
        [sys.executable, "-c", "import django, json, sys; django.setup()\n"
         "print('ready', flush=True); sys.stdin.readline()\n" + code],
        env=worker_env(**env), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert worker.stdout is not None and worker.stdout.readline() == "ready\n", (
        worker.stderr.read() if worker.stderr else ""
    )
    return worker


def go(worker: subprocess.Popen[str]) -> None:
    assert worker.stdin is not None
    worker.stdin.write("go\n")
    worker.stdin.flush()


def said(worker: subprocess.Popen[str]) -> str:
    """The next line the worker printed."""
    assert worker.stdout is not None
    return worker.stdout.readline().strip()


def finish(worker: subprocess.Popen[str]) -> Any:
    out, err = worker.communicate(timeout=120)
    assert worker.returncode == 0, err
    return json.loads(out.strip().splitlines()[-1])
