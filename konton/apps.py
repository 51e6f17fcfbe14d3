from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class KontonConfig(AppConfig):
    name = "konton"
    verbose_name = _("Konton och inloggning")
    default_auto_field = "django.db.models.BigAutoField"
