"""Benchmark: the follow-up scan over 1,000,000 conversations in 100 organisations.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/threadline_bench \
        .venv/bin/python -m bench.followups

Builds the dataset (bench/dataset.py) unless --prefix names one already built, then runs the
scan for every organisation, as the beat's per-organisation tasks do (application role, row-level
security on), one after another: the first scan opens the items, the next ones find the record
unchanged. Prints the time of each full scan. Target: < 2 s for one full scan.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

from bench.dataset import build, setup_django


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--organisations", type=int, default=100)
    parser.add_argument("--conversations", type=int, default=1_000_000)
    parser.add_argument("--prefix", help="use a dataset built before (its slug prefix)")
    parser.add_argument("--rounds", type=int, default=5)
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
