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
        # The team lead's (arbetsledare, bidrag.roles.ROLE_APP_PERMISSIONS): hand tasks to people.
        permissions = [("assign_tasks", "Fördela uppgifter i köerna")]


class ScheduledRun(models.Model):
    """One run of one of the scheduler's jobs for one due time (workflows.scheduler).

    The unique (job, due_at) is the claim: whichever scheduler inserts the row runs the job,
    every other scheduler that reaches the same due time finds it taken and skips it. Its
    index also serves the operators' "latest runs of a job".
    """

    class Outcome(models.TextChoices):
        RUNNING = "running", _("pågår")
        SUCCEEDED = "succeeded", _("lyckades")
        FAILED = "failed", _("misslyckades")
        ABANDONED = "abandoned", _("avbruten")

    job = models.CharField(_("jobb"), max_length=64)
    due_at = models.DateTimeField(_("planerad tid"))
    started_at = models.DateTimeField(_("startad"))
    finished_at = models.DateTimeField(_("avslutad"), null=True, blank=True)
    outcome = models.CharField(_("utfall"), max_length=16, choices=Outcome.choices, default=Outcome.RUNNING)
    output = models.TextField(_("utdata"), blank=True)
    error = models.TextField(_("fel"), blank=True)
    claimed_by = models.CharField(_("körd av"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("schemalagd körning")
        verbose_name_plural = _("schemalagda körningar")
        constraints = [models.UniqueConstraint(fields=["job", "due_at"], name="workflows_scheduled_run_once")]

    def __str__(self) -> str:
        return f"{self.job} {self.due_at:%Y-%m-%d %H:%M} {self.outcome}"
