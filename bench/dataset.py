"""A large generated dataset for benchmarks: organisations, accounts, conversations, messages.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/threadline_bench \
        .venv/bin/python -m bench.dataset --organisations 100 --conversations 1000000

Everything is generated inside PostgreSQL with INSERT ... SELECT over generate_series, so a
million conversations with three messages each take minutes, not hours. Loading is a system
job: it runs as the owning role (like migrations), because bulk loading across organisations
is exactly what the application role may not do. Re-running adds another dataset beside the
first (each run has its own slug prefix).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass
from typing import Any

# Message text drawn from a business vocabulary, so words are spread the way real ones are
# (each in a few percent of messages) rather than every message saying the same thing.
VOCABULARY = tuple(
    (  # noqa: SIM905 - one word list reads best as text
        "renewal price pricing quote invoice order delivery depot shipment contract licence "
        "seats discount budget forecast meeting call demo workshop onboarding training rollout "
        "pilot integration api export import report dashboard analytics billing payment refund "
        "credit support ticket outage incident upgrade migration security audit compliance "
        "gdpr sso password login access permissions team manager director board approval "
        "signature legal procurement vendor partner reseller warehouse logistics fleet route "
        "schedule calendar monday tuesday wednesday thursday friday weekend morning afternoon "
        "quarter january february march april may june july august september october november "
        "december london leeds manchester paris berlin madrid dublin amsterdam office site "
        "visit travel hotel feedback survey question answer proposal draft revised final "
        "version attachment slides spreadsheet document agenda minutes notes summary follow "
        "next steps deadline timeline milestone launch release feature request bug fix patch "
        "roadmap priority urgent blocker risk issue concern escalation complaint apology "
        "thanks welcome introduction referral case study reference customer client account "
        "owner champion sponsor stakeholder user adoption usage growth expansion upsell churn "
        "retention health score review plan goal "
    ).split()
)
WORDS_PER_MESSAGE = 14


@dataclass(frozen=True)
class Dataset:
    prefix: str
    organisation_ids: list[int]


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "threadline.settings")
    os.environ.setdefault("DEBUG", "true")
    import django

    django.setup()


def build(*, organisations: int, conversations: int, messages_each: int = 3) -> Dataset:
    """Generate the dataset; returns the organisations made. Conversation states are spread
    the way a busy CRM's are: most settled or quiet, some waiting on either side, some overdue.
    """
    from django.core.management import call_command
    from django.db import connection

    from organisations.database import owner_connection

    per_org = max(1, conversations // organisations)
    accounts_per_org = max(1, per_org // 10)
    prefix = f"bench{int(time.time())}"
    with owner_connection():
        call_command("migrate", verbosity=0)
        from organisations.models import Organisation

        # Small tables through the ORM, so every column gets its default; big ones in SQL.
        Organisation.objects.bulk_create(
            Organisation(name=f"Bench {n}", slug=f"{prefix}-{n}", time_zone="Europe/London")
            for n in range(1, organisations + 1)
        )
        with connection.cursor() as cursor:
            steps = [
                (
                    "members",
                    """
                    INSERT INTO organisations_user
                           (password, email, full_name, is_active, is_staff, is_superuser,
                            date_joined)
                    SELECT '!', o.slug || '@bench.example', 'Owner of ' || o.name, true, false,
                           false, now()
                      FROM organisations_organisation o WHERE o.slug LIKE %(prefix)s || '-%%';
                    INSERT INTO organisations_membership (organisation_id, user_id, role, joined_at)
                    SELECT o.id, u.id, 'sales', now()
                      FROM organisations_organisation o
                      JOIN organisations_user u ON u.email = o.slug || '@bench.example'
                     WHERE o.slug LIKE %(prefix)s || '-%%'
                    """,
                ),
                (
                    "accounts",
                    """
                    INSERT INTO accounts_account
                           (organisation_id, name, website, description, owner_id, created_at,
                            last_interaction_at, usual_gap_days, usual_reply_days)
                    SELECT m.organisation_id, 'Account ' || g, '', '', m.user_id, now(),
                           now() - random() * interval '90 days',
                           1 + random() * 20, 0.5 + random() * 3
                      FROM organisations_membership m
                      JOIN organisations_organisation o ON o.id = m.organisation_id
                     CROSS JOIN generate_series(1, %(accounts)s) g
                     WHERE o.slug LIKE %(prefix)s || '-%%'
                    """,
                ),
                (
                    "conversations",
                    """
                    INSERT INTO conversations_conversation
                           (organisation_id, account_id, subject, owner_id, started_at,
                            last_activity_at, last_inbound_at, last_outbound_at, message_count,
                            state, state_since, reply_due_at, nudge_due_at)
                    SELECT a.organisation_id, a.id, 'Conversation ' || g, a.owner_id,
                           t - interval '30 days', t, t, t - interval '1 day', %(messages)s,
                           s.state, t,
                           CASE WHEN s.state = 'awaiting_us' THEN t + interval '1 day' END,
                           CASE WHEN s.state = 'awaiting_them' THEN t + interval '3 days' END
                      FROM accounts_account a
                      JOIN organisations_organisation o ON o.id = a.organisation_id
                     CROSS JOIN generate_series(1, 10) g
                     CROSS JOIN LATERAL (
                           SELECT now() - random() * interval '120 days' AS t,
                                  (ARRAY['awaiting_us', 'awaiting_them', 'settled', 'settled',
                                         'settled', 'quiet', 'quiet', 'quiet', 'quiet',
                                         'settled'])[1 + (random() * 9)::int] AS state
                            WHERE g > 0
                     ) s
                     WHERE o.slug LIKE %(prefix)s || '-%%'
                    """,
                ),
                (
                    "messages",
                    """
                    INSERT INTO conversations_message
                           (organisation_id, conversation_id, account_id, kind, direction,
                            sender_member_id, occurred_at, subject, body_text, quoted_text,
                            body_html, in_reply_to, "references", automated_reason,
                            is_out_of_office, created_at)
                    SELECT c.organisation_id, c.id, c.account_id, 'email',
                           CASE WHEN n %% 2 = 1 THEN 'inbound' ELSE 'outbound' END,
                           CASE WHEN n %% 2 = 0 THEN c.owner_id END,
                           c.last_activity_at - (%(messages)s - n) * interval '1 day',
                           c.subject,
                           (SELECT string_agg(
                                (%(words)s::text[])[1 + floor(random() * %(vocabulary)s)::int], ' ')
                              FROM generate_series(1, %(per_message)s + (c.id * 0 + n * 0)::int)),
                           '', '', '', '', '', false, now()
                      FROM conversations_conversation c
                      JOIN organisations_organisation o ON o.id = c.organisation_id
                     CROSS JOIN generate_series(1, %(messages)s) n
                     WHERE o.slug LIKE %(prefix)s || '-%%'
                    """,
                ),
                (
                    "commitments",
                    """
                    INSERT INTO conversations_commitment
                           (organisation_id, conversation_id, owed_by, text, due_on, due_at,
                            remind_at, state, created_at)
                    SELECT c.organisation_id, c.id, 'us', 'Send the revised pricing',
                           d::date, d, d - interval '8 hours',
                           CASE WHEN c.id %% 3 = 0 THEN 'kept' ELSE 'open' END, now()
                      FROM conversations_conversation c
                      JOIN organisations_organisation o ON o.id = c.organisation_id
                     CROSS JOIN LATERAL (
                           SELECT date_trunc('day', now() + (random() * 40 - 20) * interval '1 day')
                                  + interval '17 hours' AS d WHERE c.id > 0) due
                     WHERE o.slug LIKE %(prefix)s || '-%%' AND c.id %% 10 = 0
                    """,
                ),
            ]
            params: dict[str, Any] = {
                "prefix": prefix,
                "orgs": organisations,
                "accounts": accounts_per_org,
                "messages": messages_each,
                "words": list(VOCABULARY),
                "vocabulary": len(VOCABULARY),
                "per_message": WORDS_PER_MESSAGE,
            }
            for name, statement in steps:
                started = time.perf_counter()
                for part in statement.split(";"):
                    if part.strip():
                        cursor.execute(part, params)
                print(f"  {name:<14} {time.perf_counter() - started:6.1f} s", flush=True)
            started = time.perf_counter()
            from conversations.search_index import messages_index

            for org in Organisation.objects.filter(slug__startswith=prefix + "-"):
                messages_index(org=org)  # the real indexing code, one statement each
            print(f"  {'search index':<14} {time.perf_counter() - started:6.1f} s", flush=True)
            cursor.execute("ANALYZE")
            cursor.execute(
                "SELECT id FROM organisations_organisation WHERE slug LIKE %s ORDER BY id",
                [prefix + "-%"],
            )
            ids = [row[0] for row in cursor.fetchall()]
    return Dataset(prefix=prefix, organisation_ids=ids)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--organisations", type=int, default=100)
    parser.add_argument("--conversations", type=int, default=1_000_000)
    args = parser.parse_args()
    setup_django()
    started = time.perf_counter()
    dataset = build(organisations=args.organisations, conversations=args.conversations)
    print(
        f"dataset {dataset.prefix}: {len(dataset.organisation_ids)} organisations in "
        f"{time.perf_counter() - started:.0f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
