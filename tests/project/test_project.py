"""The project as a newcomer meets it: settings, deploy checks, compose file, demo seed."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

ROOT = Path(__file__).resolve().parents[2]


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def production_env() -> dict[str, str]:
    db = settings.DATABASES["default"]
    host = db["HOST"]
    url = (
        f"postgres://{db['USER']}@/{db['NAME']}?host={host}"
        if str(host).startswith("/")
        else f"postgres://{db['USER']}@{host}:{db['PORT'] or 5432}/{db['NAME']}"
    )
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECURE_SSL_REDIRECT"}}
    return env | {
        "DJANGO_SETTINGS_MODULE": "threadline.settings",
        "DATABASE_URL": url,
        "REDIS_URL": settings.REDIS_URL,
        "SECRET_KEY": "k8#Qz!v2-production-grade-secret-key-with-plenty-of-entropy-0193",
        "ALLOWED_HOSTS": "crm.example.com",
        "DEBUG": "false",
    }


def test_production_settings_pass_the_deploy_check():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    env = production_env()
    del env["SECRET_KEY"]
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_a_database_url_that_is_not_postgres_is_refused():
    result = manage("check", env=production_env() | {"DATABASE_URL": "sqlite:///db.sqlite3"})
    assert result.returncode != 0
    assert "DATABASE_URL must be a postgres:// URL" in result.stderr


def test_the_demo_seed_refuses_to_run_in_production():
    result = manage("seed_demo", env=production_env())
    assert result.returncode != 0
    assert "only runs with DEBUG or THREADLINE_DEMO" in result.stderr


@pytest.mark.skipif(
    not shutil.which("docker-compose"),
    reason="Debian's docker-compose is not installed (make test installs it as root)",
)
def test_the_compose_file_is_valid():
    result = subprocess.run(
        ["docker-compose", "-f", "docker-compose.yml", "config", "-q"],
        cwd=ROOT, env=os.environ | {"SECRET_KEY": "x"}, capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    services = subprocess.run(
        ["docker-compose", "-f", "docker-compose.yml", "config", "--services"],
        cwd=ROOT, env=os.environ | {"SECRET_KEY": "x"}, capture_output=True, text=True,
    ).stdout.split()  # fmt: skip
    assert sorted(services) == ["beat", "postgres", "redis", "web", "worker"]


def test_the_demo_seed_builds_a_believable_organisation_once(db, settings):
    from accounts.models import Account
    from contacts.models import Contact
    from conversations.models import Commitment, Message
    from organisations.models import Membership, Organisation

    settings.THREADLINE_DEMO = True
    call_command("seed_demo")
    call_command("seed_demo")  # idempotent
    org = Organisation.objects.get(slug="demo")
    assert Organisation.objects.filter(slug="demo").count() == 1
    roles = set(Membership.objects.filter(organisation=org).values_list("role", flat=True))
    assert roles == {"admin", "manager", "sales"}
    assert Account.objects.for_org(org).count() == 8
    levels = set(Contact.objects.for_org(org).values_list("level", flat=True))
    assert {"executive", "senior", "manager", "staff"} <= levels
    kinds = set(Message.objects.for_org(org).values_list("kind", flat=True))
    assert kinds == {"call", "meeting", "note", "email"}
    messages = Message.objects.for_org(org)
    oldest, newest = (
        messages.order_by("occurred_at").first(),
        messages.order_by("occurred_at").last(),
    )
    assert (newest.occurred_at - oldest.occurred_at).days > 300, "a year of history"
    waiting = messages.order_by("-occurred_at").filter(direction="inbound", kind="email").first()
    assert waiting is not None and waiting.conversation.last_outbound_at is None
    overdue = [c for c in Commitment.objects.for_org(org).filter(owed_by="us") if c.is_overdue]
    assert len(overdue) == 1
    quiet = Account.objects.for_org(org).order_by("last_interaction_at").first()
    assert quiet.name == "Quarry Street Bakery"
    from django.utils import timezone

    assert (timezone.now() - quiet.last_interaction_at).days > 90
    # ...and the first visit already shows what needs doing, each in its owner's queue.
    from followups.models import FollowUp

    reasons = set(
        FollowUp.objects.for_org(org).filter(resolved_at=None).values_list("reason", flat=True)
    )
    assert {"awaiting_us", "promise_due", "gone_quiet"} <= reasons


def test_views_selectors_services_and_tasks_never_use_the_cross_org_escape_hatches():
    # Only admin, migrations, the tenancy package itself and cross-organisation system jobs may.
    allowed = {"organisations/tenancy.py", "organisations/middleware.py", "organisations/rls.py"}
    offenders = []
    packages = [d for d in ROOT.iterdir() if (d / "__init__.py").exists() and d.name != "tests"]
    for path in (p for package in packages for p in package.rglob("*.py")):
        relative = str(path.relative_to(ROOT))
        if relative.startswith(("tests/", ".venv/", "bench/", "var/")) or relative in allowed:
            continue
        kinds = {"views", "selectors", "services", "api", "tasks", "forms"}
        if not ({path.stem, path.parent.name} & kinds):
            continue
        escape_hatches = r"\.all_orgs\b|all_orgs_context|_default_manager|_base_manager|set_config"
        if re.search(escape_hatches, path.read_text()):
            offenders.append(relative)
    assert offenders == []
