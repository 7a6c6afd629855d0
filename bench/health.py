"""Benchmark: the nightly health recompute for 10,000 accounts with 1,000,000 messages.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/threadline_bench \
        .venv/bin/python -m bench.health

Builds the dataset (bench/dataset.py: 10 organisations x 1,000 accounts x 10 conversations x
10 messages, plus three people per account who write the customer's messages) unless --prefix
names one built before, then runs the nightly recompute for every organisation as the beat's
per-organisation tasks do (application role, row-level security on): first one after another,
then spread over --workers processes like a Celery worker with that concurrency. Each run
upserts today's snapshot of every account. Target: < 60 s.
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor

from bench.dataset import build, setup_django


def _people(prefix: str) -> None:
    """Three people per account (a decision maker, a champion, a user) who send the customer's
    messages in turn, so breadth and turn-taking have something to measure."""
    from django.db import connection

    from organisations.database import owner_connection

    with owner_connection(), connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO contacts_contact
                   (organisation_id, account_id, full_name, title, level, buying_influence,
                    notes, created_at)
            SELECT a.organisation_id, a.id, 'Person ' || g || ' of ' || a.name, '', 'unknown',
                   (ARRAY['decision_maker', 'champion', 'user'])[g], '', now()
              FROM accounts_account a
              JOIN organisations_organisation o ON o.id = a.organisation_id
             CROSS JOIN generate_series(1, 3) g
             WHERE o.slug LIKE %(prefix)s || '-%%'
            """,
            {"prefix": prefix},
        )
        cursor.execute(
            """
            UPDATE conversations_message m SET sender_contact_id = p.id
              FROM (SELECT id, account_id,
                           row_number() OVER (PARTITION BY account_id ORDER BY id) - 1 AS n
                      FROM contacts_contact) p,
                   organisations_organisation o
             WHERE o.id = m.organisation_id AND o.slug LIKE %(prefix)s || '-%%'
               AND m.direction = 'inbound' AND p.account_id = m.account_id
               AND p.n = m.conversation_id %% 3
            """,
            {"prefix": prefix},
        )
        cursor.execute("ANALYZE")


def _refresh_some(organisation_ids: list[int]) -> int:
    """One worker process: refresh these organisations, as their Celery tasks would."""
    setup_django()
    from health.tasks import refresh_health

    return sum(refresh_health(pk) for pk in organisation_ids)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--organisations", type=int, default=10)
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--messages-each", type=int, default=10, help="per conversation")
    parser.add_argument("--prefix", help="use a dataset built before (its slug prefix)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2, help="processes, as worker concurrency")
    args = parser.parse_args()
    setup_django()
    from django.db import connection

    from health.tasks import refresh_health
    from organisations.models import Organisation
    from organisations.tenancy import all_orgs_context

    if args.prefix:
        prefix = args.prefix
    else:
        started = time.perf_counter()
        prefix = build(
            organisations=args.organisations,
            conversations=args.accounts * 10,
            messages_each=args.messages_each,
        ).prefix
        _people(prefix)
        print(f"built in {time.perf_counter() - started:.0f} s")
    organisations = list(Organisation.objects.filter(slug__startswith=prefix + "-").order_by("pk"))
    ids = [o.pk for o in organisations]
    with all_orgs_context(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM accounts_account WHERE organisation_id = ANY(%s)", [ids]
        )
        accounts = cursor.fetchone()[0]
        cursor.execute(
            "SELECT count(*) FROM conversations_message WHERE organisation_id = ANY(%s)", [ids]
        )
        messages = cursor.fetchone()[0]
    print(f"dataset {prefix}: {len(ids)} organisations, {accounts:,} accounts, ", end="")
    print(f"{messages:,} messages")
    serial = []
    for round_ in range(args.rounds):
        started = time.perf_counter()
        done = sum(refresh_health(pk) for pk in ids)
        serial.append(time.perf_counter() - started)
        print(f"recompute {round_ + 1}, one process: {serial[-1]:.1f} s ({done:,} accounts)")
    if args.workers > 1:
        shares = [ids[n :: args.workers] for n in range(args.workers)]
        parallel = []
        connection.close()
        spawn = multiprocessing.get_context("spawn")  # each worker its own connection
        with ProcessPoolExecutor(max_workers=args.workers, mp_context=spawn) as pool:
            list(pool.map(_refresh_some, [[] for _ in range(args.workers)]))  # start them
            for round_ in range(args.rounds):
                started = time.perf_counter()
                done = sum(pool.map(_refresh_some, shares))
                parallel.append(time.perf_counter() - started)
                print(
                    f"recompute {round_ + 1} on {args.workers} workers: {parallel[-1]:.1f} s "
                    f"({done:,} accounts)"
                )
        print(
            f"one process: median {statistics.median(serial):.1f} s; "
            f"{args.workers} workers: median {statistics.median(parallel):.1f} s"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
