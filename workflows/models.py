import uuid

from django.conf import settings
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


class QueueEntry(models.Model):
    """One open task of the queues, with what the queue filters and sorts by (issue 7).

    viewflow's task table says who must act; the application says what the case is. A queue
    page filtered by one and sorted by the other joined 100 000 tasks to 100 000
    applications and sorted the lot (0.5–1.7 s). Here the two sit in one row, so each sort
    is an index of its own walked from the cursor, and the last page costs what the first does.

    Derived, never edited by hand: workflows.queue_entries.queue_sync rewrites a case's rows
    inside every door transaction that changes its tasks or its application (DESIGN.md §3:
    one door), and queue_rebuild / queue_drift rebuild and check them all. An open human
    task has a row; so has an open wait for the applicant (`asked_by`: who asked).
    """

    task = models.OneToOneField("viewflow.Task", on_delete=models.CASCADE, primary_key=True,
                                related_name="queue_entry")
    permission = models.CharField(max_length=255, blank=True)  # the task's owner_permission; "" for a wait
    is_wait = models.BooleanField(default=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, related_name="+")
    asked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, related_name="+")
    created = models.DateTimeField()  # the task's: the queue's own order
    application = models.ForeignKey("bidrag.Application", on_delete=models.CASCADE, related_name="+")
    case = models.ForeignKey("arenden.Case", on_delete=models.CASCADE, related_name="+")
    organisation = models.ForeignKey("bidrag.Organisation", on_delete=models.CASCADE, related_name="+")
    call = models.ForeignKey("bidrag.Call", on_delete=models.CASCADE, related_name="+")
    track = models.ForeignKey("bidrag.CallTrack", on_delete=models.CASCADE, null=True, related_name="+")
    status = models.CharField(max_length=30)
    received = models.DateTimeField()  # the application's submission
    deadline = models.DateField()  # the applicant's svarsfrist; NO_DEADLINE (9999-12-31) when none
    requested = models.DecimalField(max_digits=14, decimal_places=2)  # as submitted (SubmittedVersion)
    # FL 9 and 11 §§: the day Brå aims to have decided by (received + the call's target_days, Stockholm).
    target_on = models.DateField()
    # FL 12 §: the applicant has demanded a decision and the demand is not yet answered.
    demanded = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("köpost")
        verbose_name_plural = _("köposter")
        indexes = [
            # One per sort, each led by the queue (the permission), ending in the tie-breaker.
            models.Index(fields=["permission", "created", "task"], name="queue_by_created"),
            models.Index(fields=["permission", "received", "task"], name="queue_by_received"),
            models.Index(fields=["permission", "deadline", "task"], name="queue_by_deadline"),
            models.Index(fields=["permission", "requested", "task"], name="queue_by_requested"),
            models.Index(fields=["permission", "created", "task"], condition=models.Q(owner__isnull=True),
                         name="queue_unassigned"),
            models.Index(fields=["owner", "created", "task"], name="queue_mine"),
            models.Index(fields=["asked_by", "created", "task"], condition=models.Q(is_wait=True),
                         name="queue_waits"),
            # The overdue queue's three reasons, each read from its own index (a BitmapOr).
            models.Index(fields=["permission", "target_on", "task"], name="queue_by_target"),
            models.Index(fields=["permission", "created", "task"], condition=models.Q(demanded=True),
                         name="queue_demanded"),
            # The filters a rare value of which the planner reads first, then sorts the few.
            models.Index(fields=["call", "created"], name="queue_call"),
            models.Index(fields=["track", "created"], name="queue_track"),
            models.Index(fields=["organisation", "created"], name="queue_organisation"),
        ]

    def __str__(self) -> str:
        return f"{self.permission or 'wait'} {self.task_id}"


class DataExport(models.Model):
    """One export: who took it, when, of what, in which format and with which filters.
    Append-only (migration workflows 0007): the record of what left the system is kept as
    the journal is. Staff readers, auditors above all, read it under *Gjorda exporter*."""

    class Kind(models.TextChoices):
        DECISIONS = "beslutslogg", _("Beslutslogg")
        DISBURSEMENTS = "utbetalningar", _("Utbetalningar")

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        XLSX = "xlsx", "XLSX"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(_("vad"), max_length=16, choices=Kind.choices)
    file_format = models.CharField(_("format"), max_length=8, choices=Format.choices)
    # The filters as the query string gave them (field name → value), only the valid ones.
    filters = models.JSONField(_("urval"), default=dict, blank=True)
    made_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                verbose_name=_("gjord av"))
    made_at = models.DateTimeField(_("gjord"), auto_now_add=True)

    class Meta:
        verbose_name = _("export")
        verbose_name_plural = _("exporter")
        indexes = [models.Index(fields=["made_at", "id"], name="workflows_export_newest")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.file_format} {self.made_at:%Y-%m-%d %H:%M}"


class ExportJob(models.Model):
    """An XLSX export too large to build in the request (issue 9), built by a task: its
    progress, and where the finished workbook is stored. Not append-only (rows_done moves);
    what left the system stays recorded in the append-only DataExport it belongs to. A
    failed job is not retried: its maker starts a new export."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("I kö")
        RUNNING = "running", _("Pågår")
        DONE = "done", _("Klar")
        FAILED = "failed", _("Misslyckades")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    export = models.OneToOneField(DataExport, on_delete=models.PROTECT, related_name="job",
                                  verbose_name=_("export"))
    made_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                verbose_name=_("gjord av"))
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.QUEUED)
    rows_total = models.PositiveIntegerField(_("rader totalt"), null=True, blank=True)
    rows_done = models.PositiveIntegerField(_("rader klara"), default=0)
    # A fresh key per job, never written twice (arenden.storage.document_put refuses an existing one).
    object_key = models.CharField(_("lagrad fil"), max_length=255, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    size = models.PositiveBigIntegerField(_("storlek"), null=True, blank=True)
    error = models.TextField(_("fel"), blank=True)
    created_at = models.DateTimeField(_("skapad"), auto_now_add=True)
    started_at = models.DateTimeField(_("påbörjad"), null=True, blank=True)
    finished_at = models.DateTimeField(_("avslutad"), null=True, blank=True)

    class Meta:
        verbose_name = _("exportjobb")
        verbose_name_plural = _("exportjobb")

    def __str__(self) -> str:
        return f"{self.export} {self.status}"
