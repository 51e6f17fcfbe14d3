from django.apps import AppConfig


class BidragConfig(AppConfig):
    name = "bidrag"
    verbose_name = "Bidrag"

    def ready(self):
        from django.db.models.signals import post_migrate

        post_migrate.connect(_ensure_roles, sender=self)


def _ensure_roles(sender, **kwargs):
    # Permissions exist only after migrate has created them, hence post_migrate.
    from .roles import roles_ensure

    roles_ensure()
