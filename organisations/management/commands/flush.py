from typing import Any

from django.core.management.commands.flush import Command as DjangoFlush

from organisations import database


class Command(DjangoFlush):
    help = DjangoFlush.help + " Runs as the owning role: the app role may not TRUNCATE."

    def handle(self, *args: Any, **options: Any) -> None:
        with database.owner_connection():
            super().handle(*args, **options)
