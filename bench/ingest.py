"""Benchmark: email in, end to end. Not part of the test suite.

Loads N realistic messages into a private Dovecot (from the shared corpus when
THREADLINE_MAIL_CORPUS is set, else generated), syncs them into PostgreSQL through the real
IMAP sync, and prints messages/second end to end beside the rate at which the standard
library's `email.message_from_bytes(..., policy=policy.default)` alone parses the same bytes.

    DATABASE_URL=... .venv/bin/python -m bench.ingest --messages 10000

It creates its own organisation (slug `bench-<time>`) in the database it is pointed at.
"""

from __future__ import annotations

import argparse
import cProfile
import email
import email.policy
import os
import random
import re
import sys
import time
from collections import Counter
from pathlib import Path


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


def generated_messages(limit: int, customers: list[str], members: list[str]) -> list[bytes]:
    rng = random.Random(7)  # noqa: S311 - benchmark data
    out = []
    for n in range(limit):
        sender, to = rng.choice(customers), rng.choice(members)
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


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--profile", metavar="FILE", help="write cProfile stats of the sync here")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "threadline.settings")
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-not-for-production-0123456789")
    from threadline import embedded

    embedded.ensure_started()
    import django

    django.setup()
    from accounts.models import FREE_MAIL_DOMAINS
    from accounts.services import account_save
    from contacts.services import contact_save
    from mail.models import Mailbox
    from mail.secrets import encrypt_secret
    from mail.sync import mailbox_sync
    from organisations.models import Membership, Organisation, User
    from organisations.tenancy import org_context
    from tests.mail.conftest import PASSWORD, dovecot  # the same private Dovecot as the tests

    slug = f"bench-{int(time.time())}"
    org = Organisation.objects.create(name="Bench", slug=slug)
    members = []
    for n in range(3):
        user = User.objects.create_user(f"member{n}@{slug}.example", None)
        Membership.objects.create(organisation=org, user=user)
        members.append(user.email)
    customers = []
    with org_context(org):
        for n in range(50):
            account = account_save(org=org, domains=[f"customer{n}.example"], name=f"Customer {n}")
            for m in range(3):
                address = f"person{m}@customer{n}.example"
                contact_save(
                    org=org, emails=[address], account=account, full_name=f"Person {n}.{m}"
                )
                customers.append(address)
    raws = corpus_messages(args.messages) or generated_messages(args.messages, customers, members)
    with org_context(org):
        # Real mail comes from real companies: make accounts of the commonest sender domains,
        # so most of the corpus is filed under accounts rather than left unsorted.
        senders = Counter(
            match.group(1).lower().decode()
            for raw in raws
            if (match := re.search(rb"^From:.*@([\w.-]+\.[a-z]{2,})", raw, re.M | re.I))
        )
        taken = {address.rpartition("@")[2] for address in customers}
        for n, (domain, _) in enumerate(senders.most_common(200)):
            if domain not in FREE_MAIL_DOMAINS | taken:
                account_save(org=org, domains=[domain], name=f"Corpus {n} {domain}")

    started = time.perf_counter()
    for raw in raws:
        email.message_from_bytes(raw, policy=email.policy.default).get_body()
    parse_rate = len(raws) / (time.perf_counter() - started)

    server_fixture = dovecot.__wrapped__()  # type: ignore[attr-defined]
    server = next(server_fixture)
    username = server.new_user()
    imap = server.connect(username)
    for raw in raws:
        imap.append("INBOX", None, None, raw)
    imap.logout()
    with org_context(org):
        mailbox = Mailbox.objects.for_org(org).create(
            owner=User.objects.get(email=members[0]), email_address=members[0],
            host=server.host, port=server.port, security="none", username=username,
            secret=encrypt_secret(PASSWORD), history_days=3650,
        )  # fmt: skip
        profiler = cProfile.Profile() if args.profile else None
        started = time.perf_counter()
        if profiler is not None:
            profiler.enable()
        report = mailbox_sync(org=org, mailbox_id=mailbox.pk)
        elapsed = time.perf_counter() - started
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(args.profile)
    next(server_fixture, None)
    source = "corpus" if os.environ.get("THREADLINE_MAIL_CORPUS") else "generated"
    print(f"messages: {len(raws)} ({source})")
    print(f"sync: {report.outcome}, created {report.created}, unsorted {report.unsorted}, "
          f"duplicates {report.duplicates}, quarantined {report.quarantined}")  # fmt: skip
    print(f"end to end: {len(raws) / elapsed:,.0f} msg/s ({elapsed:.1f} s)")
    print(f"stdlib parse alone (policy.default + get_body): {parse_rate:,.0f} msg/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
