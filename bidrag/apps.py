from django.apps import AppConfig


class BidragConfig(AppConfig):
    name = "bidrag"
    verbose_name = "Bidrag"

    def ready(self):
        from django.db.models.signals import post_migrate

        post_migrate.connect(_ensure_roles, sender=self)
        _register_documents()


def _register_documents():
    """The letters Brå stores before it records them are swept for orphans as attachments
    are (arenden.storage.orphans_remove, `manage.py attachments_cleanup`)."""
    from arenden.storage import documents_recorded_in

    from .models import AppealLetter, DecisionLetter
    from .services.appeals import LETTER_PREFIX
    from .services.letters import PREFIX

    for prefix, model in ((PREFIX, DecisionLetter), (LETTER_PREFIX, AppealLetter)):
        documents_recorded_in(prefix, lambda names, model=model: set(
            model.objects.filter(file__in=names).values_list("file", flat=True)))


def _ensure_roles(sender, **kwargs):
    # Permissions exist only after migrate has created them, hence post_migrate.
    from .roles import roles_ensure

    roles_ensure()
