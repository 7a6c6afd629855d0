"""Benchmark: the follow-up scan over 1,000,000 conversations in 100 organisations.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/threadline_bench \
        .venv/bin/python -m bench.followups

Builds the dataset (bench/dataset.py) unless --prefix names one already built, then runs the
scan for every organisation, as the beat's per-organisation tasks do (application role, row-level
security on), one after another: the first scan opens the items, the next ones find the record
unchanged. Prints the time of each full scan, first with the organisations one after another,
then spread over --workers processes the way a Celery worker with that concurrency runs the
beat's per-organisation tasks. Target: < 2 s for one full scan.
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor

from bench.dataset import build, setup_django


def _scan_some(organisation_ids: list[int]) -> tuple[int, int]:
    """One worker process: scan these organisations, as their Celery tasks would."""
    setup_django()
    from followups.scan import followups_scan
    from organisations.models import Organisation
    from organisations.tenancy import org_context

    opened = resolved = 0
    for org in Organisation.objects.filter(pk__in=organisation_ids).order_by("pk"):
        with org_context(org):
            result = followups_scan(org=org)
        opened, resolved = opened + result.opened, resolved + result.resolved
    return opened, resolved


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--organisations", type=int, default=100)
    parser.add_argument("--conversations", type=int, default=1_000_000)
    parser.add_argument("--prefix", help="use a dataset built before (its slug prefix)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2, help="processes, as worker concurrency")
    args = parser.parse_args()
    setup_django()
    from django.db import connection

    from followups.scan import followups_scan
    from organisations.models import Organisation
    from organisations.tenancy import all_orgs_context, org_context

    if args.prefix:
        prefix = args.prefix
    else:
        print(
            f"building {args.conversations:,} conversations in {args.organisations} organisations"
        )
        started = time.perf_counter()
        prefix = build(organisations=args.organisations, conversations=args.conversations).prefix
        print(f"built in {time.perf_counter() - started:.0f} s")
    organisations = list(Organisation.objects.filter(slug__startswith=prefix + "-").order_by("pk"))
    with all_orgs_context(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM conversations_conversation WHERE organisation_id = ANY(%s)",
            [[o.pk for o in organisations]],
        )
        total = cursor.fetchone()[0]
    print(f"dataset {prefix}: {len(organisations)} organisations, {total:,} conversations")
    timings = []
    for round_ in range(args.rounds):
        opened = resolved = 0
        started = time.perf_counter()
        for org in organisations:
            with org_context(org):
                result = followups_scan(org=org)
            opened, resolved = opened + result.opened, resolved + result.resolved
        elapsed = time.perf_counter() - started
        timings.append(elapsed)
        print(f"scan {round_ + 1}: {elapsed:.2f} s  (opened {opened:,}, resolved {resolved:,})")
    steady = timings[1:] or timings
    print(f"first scan {timings[0]:.2f} s; later scans median {statistics.median(steady):.2f} s")
    if args.workers > 1:
        ids = [o.pk for o in organisations]
        shares = [ids[n :: args.workers] for n in range(args.workers)]
        parallel = []
        connection.close()
        spawn = multiprocessing.get_context("spawn")  # each worker its own connection
        with ProcessPoolExecutor(max_workers=args.workers, mp_context=spawn) as pool:
            list(pool.map(_scan_some, [[i] for i in ids[: args.workers]]))  # warm the processes
            for round_ in range(args.rounds):
                started = time.perf_counter()
                totals = list(pool.map(_scan_some, shares))
                parallel.append(time.perf_counter() - started)
                opened, resolved = sum(t[0] for t in totals), sum(t[1] for t in totals)
                print(
                    f"scan {round_ + 1} on {args.workers} workers: {parallel[-1]:.2f} s "
                    f"(opened {opened:,}, resolved {resolved:,})"
                )
        print(f"on {args.workers} workers: median {statistics.median(parallel):.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
