"""Benchmark: email in, end to end. Not part of the test suite.

Loads N realistic messages into a private Dovecot (from the shared corpus when
THREADLINE_MAIL_CORPUS is set, else generated), syncs them into PostgreSQL through the real
IMAP sync, and prints messages/second end to end beside the rate at which the standard
library's `email.message_from_bytes(..., policy=policy.default)` alone parses the same bytes.

    DATABASE_URL=... REDIS_URL=... .venv/bin/python -m bench.ingest --messages 10000 --runs 3

Each run syncs the same Dovecot mailbox into a fresh organisation (slug `bench-<time>-<run>`)
in the database it is pointed at; with several runs it prints each rate, the best and the
median (other work on the machine moves single figures around). The search vectors a sync
leaves to tasks after each batch commits are then written and timed on their own: they are
not part of the end-to-end figure, and are printed beside it.
"""

from __future__ import annotations

import argparse
import cProfile
import email
import email.policy
import os
import random
import re
import statistics
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

MEMBERS = [f"member{n}@bench.example" for n in range(3)]
CUSTOMERS = [f"person{m}@customer{n}.example" for n in range(50) for m in range(3)]


def corpus_messages(limit: int) -> list[bytes]:
    root = os.environ.get("THREADLINE_MAIL_CORPUS")
    if not root:
        return []
    files = sorted(
        p
        for p in Path(root).rglob("*")
        if p.is_file() and "ham" in str(p) and p.name != "README.md"
    )
    found = [p.read_bytes() for p in files]
    messages = []
    for n in range(limit):
        raw = found[n % len(found)]
        # Each copy its own Message-ID, so repeats are new messages, not duplicates.
        messages.append(b"Message-ID: <bench-%d@bench.example>\r\n" % n + raw)
    return messages


def generated_messages(limit: int) -> list[bytes]:
    rng = random.Random(7)  # noqa: S311 - benchmark data
    out = []
    for n in range(limit):
        sender, to = rng.choice(CUSTOMERS), rng.choice(MEMBERS)
        if n % 3 == 0:
            sender, to = to, sender
        reply = f"In-Reply-To: <bench-{n - 1}@bench.example>\r\n" if n % 4 else ""
        out.append(
            (
                f"From: {sender}\r\nTo: {to}\r\nSubject: Re: Order {n // 4}\r\n"
                f"Message-ID: <bench-{n}@bench.example>\r\n{reply}"
                f"Date: Mon, 16 Nov 2026 10:00:00 +0000\r\n\r\n"
                f"Thanks, the order {n} looks right.\r\n\r\n> earlier text\r\n"
            ).encode()
        )
    return out


def make_organisation(slug: str, raws: list[bytes]) -> Any:
    """Three members, 50 customer accounts with three people each, and (for the corpus) an
    account for each of the commonest sender domains, so real mail is filed, not unsorted."""
    from accounts.models import FREE_MAIL_DOMAINS
    from accounts.services import account_save
    from contacts.services import contact_save
    from organisations.models import Membership, Organisation, User
    from organisations.tenancy import org_context

    org = Organisation.objects.create(name=f"Bench {slug}", slug=slug)
    for address in MEMBERS:
        user = User.objects.filter(email=address).first() or User.objects.create_user(address, None)
        Membership.objects.create(organisation=org, user=user)
    with org_context(org):
        for n in range(50):
            account = account_save(org=org, domains=[f"customer{n}.example"], name=f"Customer {n}")
            for m in range(3):
                contact_save(
                    org=org,
                    emails=[f"person{m}@customer{n}.example"],
                    account=account,
                    full_name=f"Person {n}.{m}",
                )
        senders = Counter(
            match.group(1).lower().decode()
            for raw in raws
            if (match := re.search(rb"^From:.*@([\w.-]+\.[a-z]{2,})", raw, re.M | re.I))
        )
        taken = {address.rpartition("@")[2] for address in CUSTOMERS}
        for n, (domain, _) in enumerate(senders.most_common(200)):
            if domain not in FREE_MAIL_DOMAINS | taken:
                account_save(org=org, domains=[domain], name=f"Corpus {n} {domain}")
    return org


def append_all(imap: Any, raws: list[bytes], chunk: int = 200) -> None:
    """APPEND every message, pipelined (LITERAL+), a chunk at a time: one round trip per chunk
    instead of per message, so loading 10,000 messages takes seconds."""
    for start in range(0, len(raws), chunk):
        tags = []
        for n, raw in enumerate(raws[start : start + chunk], start=start):
            tag = b"B%d" % n
            imap.send(tag + b" APPEND INBOX {%d+}\r\n" % len(raw) + raw + b"\r\n")
            tags.append(tag)
        waiting = set(tags)
        while waiting:
            line = imap.readline()
            tag, _, rest = line.partition(b" ")
            if tag in waiting:
                if not rest.startswith(b"OK"):
                    raise RuntimeError(f"APPEND failed: {line!r}")
                waiting.discard(tag)


def cpu_seconds(pids: list[int]) -> float:
    """CPU time (user + system) these processes have used so far, from /proc (Linux)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def dovecot_imap_pids(config: Path) -> list[int]:
    """The IMAP processes of the Dovecot whose config is `config` (children of its master)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if not (proc / "cmdline").read_bytes().split(b"\0")[0].endswith(b"/imap"):
                continue
            parent = (proc / "status").read_text().split("PPid:")[1].split()[0]
            if str(config).encode() in Path(f"/proc/{parent}/cmdline").read_bytes():
                found.append(int(proc.name))
        except (OSError, IndexError):
            continue
    return found


class CpuWatch(threading.Thread):
    """Samples the CPU time of processes that come and go during the sync (Dovecot starts an
    IMAP process per login), so the total is known after they are gone."""

    def __init__(self, find: Callable[[], list[int]]) -> None:
        super().__init__(daemon=True)
        self.find, self.done = find, threading.Event()
        self.last: dict[int, float] = {}
        self.before = {pid: cpu_seconds([pid]) for pid in find()}

    def run(self) -> None:
        pids: list[int] = []
        while not self.done.wait(0.1):
            pids = pids or [pid for pid in self.find() if pid not in self.before]
            for pid in pids:  # looking for them costs CPU too: only until they are found
                self.last[pid] = cpu_seconds([pid])

    def stop(self) -> float:
        self.done.set()
        self.join()
        return sum(self.last.values())


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=1, help="syncs of the same mail, each timed")
    parser.add_argument("--profile", metavar="FILE", help="write cProfile stats of the last sync")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "threadline.settings")
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-not-for-production-0123456789")
    from threadline import embedded

    embedded.ensure_started()
    import django

    django.setup()
    from tests.mail.conftest import dovecot  # the same private Dovecot as the tests

    raws = corpus_messages(args.messages) or generated_messages(args.messages)
    source = "corpus" if os.environ.get("THREADLINE_MAIL_CORPUS") else "generated"
    print(f"messages: {len(raws)} ({source}), {sum(map(len, raws)) / len(raws):,.0f} bytes each")

    server_fixture = dovecot.__wrapped__()  # type: ignore[attr-defined]
    server = next(server_fixture)
    try:
        rates, parse_rates, index_rates = sync_runs(args, server, raws)
    finally:
        next(server_fixture, None)
    print(f"end to end: {max(rates):,.0f} msg/s best, {statistics.median(rates):,.0f} median "
          f"of {len(rates)}")  # fmt: skip
    print(f"stdlib parse alone (message_from_bytes, policy.default): {max(parse_rates):,.0f} msg/s "
          f"best, {statistics.median(parse_rates):,.0f} median")  # fmt: skip
    print(f"search vectors after the sync (its tasks' work): {max(index_rates):,.0f} msg/s "
          f"best, {statistics.median(index_rates):,.0f} median")  # fmt: skip
    return 0


def parse_alone_rate(raws: list[bytes]) -> float:
    """The issue's yardstick, exactly: the stdlib parser over the same bytes, nothing else."""
    started = time.perf_counter()
    for raw in raws:
        email.message_from_bytes(raw, policy=email.policy.default)
    return len(raws) / (time.perf_counter() - started)


def sync_runs(
    args: argparse.Namespace, server: Any, raws: list[bytes]
) -> tuple[list[float], list[float], list[float]]:
    """Each run: the stdlib parse-alone rate, then a timed sync into a fresh organisation, then
    the search vectors its tasks would write."""
    from django.db import connection

    from conversations.search_index import messages_index_missing
    from mail.models import Mailbox
    from mail.secrets import encrypt_secret
    from mail.sync import mailbox_sync
    from organisations.models import User
    from organisations.tenancy import org_context
    from tests.mail.conftest import PASSWORD

    username = server.new_user()
    imap = server.connect(username)
    append_all(imap, raws)
    imap.select("INBOX")  # Dovecot indexes the new mail now, not in the timed sync
    imap.logout()
    rates, parse_rates, index_rates = [], [], []
    for run in range(args.runs):
        org = make_organisation(f"bench-{int(time.time())}-{run}", raws)
        parse_rates.append(parse_alone_rate(raws))
        with org_context(org):
            mailbox = Mailbox.objects.for_org(org).create(
                owner=User.objects.get(email=MEMBERS[0]), email_address=MEMBERS[0],
                host=server.host, port=server.port, security="none", username=username,
                secret=encrypt_secret(PASSWORD), history_days=3650,
            )  # fmt: skip
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                postgres = cursor.fetchone()[0]
            imap_watch = CpuWatch(lambda: dovecot_imap_pids(server.config))
            imap_watch.start()
            profiler = cProfile.Profile() if args.profile and run == args.runs - 1 else None
            postgres_cpu, python_cpu = cpu_seconds([postgres]), time.process_time()
            started = time.perf_counter()
            if profiler is not None:
                profiler.enable()
            report = mailbox_sync(org=org, mailbox_id=mailbox.pk)
            elapsed = time.perf_counter() - started
            if profiler is not None:
                profiler.disable()
                profiler.dump_stats(args.profile)
            python_cpu = time.process_time() - python_cpu
            postgres_cpu = cpu_seconds([postgres]) - postgres_cpu
            imap_cpu = imap_watch.stop()
            # A sync's batches are indexed for search by tasks after they commit, outside the
            # time above; no worker runs here, so that work is done and timed now, by the same
            # code as the sweep for lost tasks.
            started = time.perf_counter()
            indexed = messages_index_missing(org=org)
            index_elapsed = time.perf_counter() - started
        rates.append(len(raws) / elapsed)
        index_rates.append(indexed / index_elapsed if indexed else 0.0)
        print(f"run {run + 1}: {report.outcome}, created {report.created}, unsorted "
              f"{report.unsorted}, duplicates {report.duplicates}, quarantined "
              f"{report.quarantined}: {rates[-1]:,.0f} msg/s ({elapsed:.1f} s); CPU per "
              f"message: Python {python_cpu * 1000 / len(raws):.2f} ms, PostgreSQL "
              f"{postgres_cpu * 1000 / len(raws):.2f} ms, Dovecot "
              f"{imap_cpu * 1000 / len(raws):.2f} ms; stdlib parse alone "
              f"{parse_rates[-1]:,.0f} msg/s; then search vectors for {indexed} messages "
              f"at {index_rates[-1]:,.0f} msg/s", flush=True)  # fmt: skip
    return rates, parse_rates, index_rates


if __name__ == "__main__":
    sys.exit(main())
