"""Benchmark: full-text search latency within one organisation on 1,000,000 messages.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/threadline_bench \
        .venv/bin/python -m bench.search

Builds a dataset of 1,000,000 messages (bench/dataset.py: 10 organisations of 100,000 messages,
text drawn from a business vocabulary) unless --prefix names one built before, then runs
typical queries as a member would (application role, row-level security on, the search page's
own selector: first page of 20 best matches with highlighted snippets, plus people and
accounts) and prints p50/p95 per query kind. Target: p95 < 50 ms.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time

from bench.dataset import VOCABULARY, build, setup_django

QUERIES = {
    "one word": lambda rng: rng.choice(VOCABULARY),
    "two words": lambda rng: " ".join(rng.sample(VOCABULARY, 2)),
    "phrase": lambda rng: '"' + " ".join(rng.sample(VOCABULARY, 2)) + '"',
    "word -word": lambda rng: " -".join(rng.sample(VOCABULARY, 2)),
    "a or b": lambda rng: " or ".join(rng.sample(VOCABULARY, 2)),
    "name prefix": lambda rng: rng.choice(["acc", "account 1", "own", "conv"]),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--organisations", type=int, default=10)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--prefix", help="use a dataset built before (its slug prefix)")
    parser.add_argument("--runs", type=int, default=40, help="queries of each kind")
    args = parser.parse_args()
    setup_django()
    from organisations.models import Organisation
    from organisations.tenancy import org_context
    from search.selectors import (
        search_accounts,
        search_contacts,
        search_messages,
    )

    prefix = (
        args.prefix
        or build(organisations=args.organisations, conversations=args.messages // 3).prefix
    )
    organisations = list(Organisation.objects.filter(slug__startswith=prefix + "-"))
    rng = random.Random(11)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW shared_buffers")
        (shared_buffers,) = cursor.fetchone()
    # Broad queries read every match to rank it: from shared buffers or from the OS.
    print(f"dataset {prefix}: {len(organisations)} organisations; shared_buffers {shared_buffers}")
    for kind, make in QUERIES.items():
        timings, found = [], 0
        for _ in range(args.runs):
            org, q = rng.choice(organisations), make(rng)
            with org_context(org):
                started = time.perf_counter()
                if kind == "name prefix":
                    found += len(list(search_accounts(org=org, q=q)[:10]))
                    list(search_contacts(org=org, q=q)[:10])
                else:
                    found += len(search_messages(org=org, q=q, highlight=True).hits)
                timings.append((time.perf_counter() - started) * 1000)
        timings.sort()
        p95 = timings[int(len(timings) * 0.95) - 1]
        print(
            f"{kind:<12} p50 {statistics.median(timings):6.1f} ms  p95 {p95:6.1f} ms"
            f"  (avg {found / args.runs:.1f} results)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
