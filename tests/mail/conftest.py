"""A real Dovecot IMAP server on 127.0.0.1 for the mail tests, with its own config and maildir.

Installed by `make test` (Debian's dovecot-imapd) when missing; the tests skip with a reason
where it cannot be. Each test gets fresh IMAP users, so tests never see each other's mail.
"""

from __future__ import annotations

import imaplib
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
DOVEADM = shutil.which("doveadm") or "/usr/bin/doveadm"
PASSWORD = "imap-secret"
USERS = 500
_numbers = itertools.count(1)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Dovecot:
    def __init__(self, root: Path, port: int, run_as: pwd.struct_passwd) -> None:
        self.root, self.port, self.run_as = root, port, run_as
        self.host = "127.0.0.1"
        self.config = root / "dovecot.conf"
        self.users = root / "users"

    def new_user(self) -> str:
        """A user no other test has touched (Dovecot reads the users file once: they exist)."""
        number = next(_numbers)
        assert number <= USERS, "raise USERS in tests/mail/conftest.py"
        return f"user{number}"

    def connect(self, username: str) -> imaplib.IMAP4:
        imap = imaplib.IMAP4(self.host, self.port, timeout=10)
        imap.login(username, PASSWORD)
        return imap

    def append(self, username: str, folder: str, raw: bytes, when: datetime | None = None) -> None:
        imap = self.connect(username)
        try:
            stamp = imaplib.Time2Internaldate(when.timestamp() if when else time.time())
            status, data = imap.append(folder, None, stamp, raw)
            assert status == "OK", data
        finally:
            imap.logout()

    def doveadm(self, *args: str) -> str:
        command = [DOVEADM, "-c", str(self.config), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", self.run_as.pw_name, "--", *command]
        return subprocess.run(command, check=True, capture_output=True, text=True).stdout

    def set_uidvalidity(self, username: str, folder: str, value: int) -> None:
        self.doveadm("mailbox", "update", "-u", username, "--uid-validity", str(value), folder)


def _write_config(root: Path, port: int, run_as: pwd.struct_passwd) -> None:
    user, group = run_as.pw_name, _group_name(run_as.pw_gid)
    (root / "dovecot.conf").write_text(f"""
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
instance_name = threadline-test-{port}
log_path = {root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {user}
default_internal_group = {group}
default_login_user = {user}
mail_location = maildir:~/Maildir
mail_fsync = never
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = static
  args = uid={run_as.pw_uid} gid={run_as.pw_gid} home={root}/home/%u
}}
service anvil {{
  chroot =
}}
service stats {{
  chroot =
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
namespace inbox {{
  inbox = yes
  mailbox Sent {{
    special_use = \\Sent
    auto = subscribe
  }}
}}
""")


def _group_name(gid: int) -> str:
    import grp

    return grp.getgrgid(gid).gr_name


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    if not Path(DOVECOT).exists():
        pytest.skip("Debian's dovecot-imapd is not installed (make test installs it as root)")
    run_as = pwd.getpwnam("nobody") if os.geteuid() == 0 else pwd.getpwuid(os.geteuid())
    root = Path(tempfile.mkdtemp(prefix="tl-dv-", dir="/tmp"))
    port = _free_port()
    for folder in ("run", "state", "home"):
        (root / folder).mkdir()
    _write_config(root, port, run_as)
    (root / "users").write_text(
        "".join(f"user{n}:{{PLAIN}}{PASSWORD}\n" for n in range(1, USERS + 1))
    )
    if os.geteuid() == 0:
        for path in (root / "state", root / "home", root / "users"):
            os.chown(path, run_as.pw_uid, run_as.pw_gid)
    root.chmod(0o755)
    process = subprocess.Popen(
        [DOVECOT, "-F", "-c", str(root / "dovecot.conf")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                log = (root / "dovecot.log").read_text() if (root / "dovecot.log").exists() else ""
                pytest.fail(f"Dovecot did not start:\n{log}")
            time.sleep(0.05)
    yield Dovecot(root, port, run_as)
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
    shutil.rmtree(root, ignore_errors=True)
