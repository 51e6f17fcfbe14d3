from django.db import models
from django.utils.translation import gettext_lazy as _
from viewflow.workflow.models import Process


class ApplicationProcess(Process):
    """The viewflow process of one application: owns only "who must act next, by when".

    The business status lives on the application's FSM field (DESIGN.md §3).
    """

    application = models.OneToOneField("bidrag.Application", on_delete=models.PROTECT, related_name="process")

    class Meta:
        verbose_name = _("handläggningsprocess")
        verbose_name_plural = _("handläggningsprocesser")
