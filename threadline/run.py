"""`make run`: set up and run the whole product (web, worker, beat) in one terminal.

Starts the embedded PostgreSQL and Redis when DATABASE_URL / REDIS_URL are unset, migrates,
seeds the demo organisation once (never in production), then runs gunicorn, a Celery worker
and Celery beat with their output prefixed in one stream. Ctrl-C (SIGINT) or SIGTERM stops
all three, then the embedded servers this run started.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import FrameType

from threadline import embedded

BASE_DIR = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
BIN = Path(PYTHON).parent
STOP_TIMEOUT = 15

_print_lock = threading.Lock()


def say(line: str, name: str = "run") -> None:
    with _print_lock:
        sys.stdout.write(f"{name:>6} | {line.rstrip()}\n")
        sys.stdout.flush()


def manage(*args: str) -> None:
    subprocess.run([PYTHON, "manage.py", *args], cwd=BASE_DIR, check=True)  # noqa: S603


def _pump(name: str, stream: object) -> None:
    for line in iter(stream.readline, ""):  # type: ignore[attr-defined]
        say(line, name)


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "threadline.settings")
    os.environ.setdefault("DEBUG", "true")
    port = os.environ.get("PORT", "8000")
    embedded_here = embedded.uses_embedded_database() or embedded.uses_embedded_redis()
    if embedded_here:
        say(f"starting embedded PostgreSQL/Redis (data in {embedded.var_dir()})")
    embedded.ensure_started()
    manage("migrate", "--no-input", "-v", "0")
    demo = os.environ.get("THREADLINE_DEMO", os.environ["DEBUG"]).lower() in {
        "1",
        "true",
        "yes",
        "on",
    }
    if demo:
        manage("seed_demo")
    if os.environ["DEBUG"].lower() not in {"1", "true", "yes", "on"}:
        manage("collectstatic", "--no-input", "-v", "0")

    commands = {
        "web": [
            str(BIN / "gunicorn"), "threadline.wsgi", "--bind", f"127.0.0.1:{port}",
            "--workers", "2", "--threads", "4", "--access-logfile", "-", "--graceful-timeout", "10",
        ],
        "worker": [
            str(BIN / "celery"), "-A", "threadline", "worker", "--loglevel", "INFO",
            "--concurrency", "2", "--without-gossip", "--without-mingle",
        ],
        "beat": [
            str(BIN / "celery"), "-A", "threadline", "beat", "--loglevel", "INFO",
            "--schedule", str(embedded.var_dir() / "celerybeat-schedule"),
        ],
    }  # fmt: skip
    embedded.var_dir().mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    children: dict[str, subprocess.Popen[str]] = {}
    for name, command in commands.items():
        children[name] = subprocess.Popen(  # noqa: S603
            command, cwd=BASE_DIR, env=env, text=True, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        threading.Thread(target=_pump, args=(name, children[name].stdout), daemon=True).start()

    say(f"Threadline is running at http://127.0.0.1:{port}/")
    if demo:
        say("demo login: demo@threadline.test / threadline-demo")
    say("press Ctrl-C to stop web, worker and beat")

    stopping = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    exit_code = 0
    while not stopping.is_set():
        for name, child in children.items():
            if child.poll() is not None:
                say(f"{name} exited with code {child.returncode}; stopping the rest")
                exit_code = 1
                stopping.set()
        stopping.wait(0.5)

    say("stopping…")
    for child in children.values():
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT
    for name, child in children.items():
        try:
            child.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            say(f"{name} did not stop in {STOP_TIMEOUT}s; killing it")
            child.kill()
            child.wait()
    if embedded_here:
        embedded.stop()
        say("embedded PostgreSQL/Redis stopped")
    say("stopped")
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
