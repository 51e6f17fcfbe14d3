from django.apps import AppConfig
from django.conf import settings
from django.core import checks


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Notiser"

    def ready(self):
        checks.register(outbox_lease_check)


def outbox_lease_check(app_configs=None, **kwargs):
    """A lease shorter than one SMTP conversation lets a second worker take over a message the
    first is still sending: both may deliver it."""
    options = getattr(settings, "MAILERS", {}).get("default", {}).get("OPTIONS", {})
    conversation = settings.OUTBOX_SMTP_DATA_TIMEOUT + 6 * float(options.get("timeout") or 0)
    lease = float(settings.OUTBOX_LEASE_SECONDS)
    if lease <= conversation:
        return [checks.Warning(
            f"OUTBOX_LEASE_SECONDS ({lease:g}) is not longer than one SMTP conversation "
            f"({conversation:g} s: OUTBOX_SMTP_DATA_TIMEOUT and six steps of EMAIL_TIMEOUT).",
            hint="Raise OUTBOX_LEASE_SECONDS, or leave it unset to have it computed.",
            id="notifications.W001",
        )]
    return []
