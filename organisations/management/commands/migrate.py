from typing import Any

from django.core.management.commands.migrate import Command as DjangoMigrate

from organisations import database, rls


class Command(DjangoMigrate):
    help = (
        DjangoMigrate.help
        + " Runs as the owning role, then (re)applies row-level security, same-organisation"
        " foreign keys and the app role's grants."
    )

    def execute(self, *args: Any, **options: Any) -> str | None:
        # As the owner from the start: the system checks before `handle` already connect
        # (generated columns ask the server's version), when the app role may not exist yet.
        with database.owner_connection():
            return super().execute(*args, **options)

    def handle(self, *args: Any, **options: Any) -> None:
        database.ensure_app_role()
        super().handle(*args, **options)
        if not options.get("plan") and not options.get("check_unapplied"):
            rls.apply_row_level_security()
            rls.apply_same_org_constraints()
            database.grant_app_role()
