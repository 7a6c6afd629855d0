from django.apps import AppConfig


class OrganisationsConfig(AppConfig):
    name = "organisations"
    verbose_name = "Organisations and people"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from organisations import database

        connection_created.connect(database.assume_app_role)
