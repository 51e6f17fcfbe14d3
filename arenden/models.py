"""Generic case handling: cases with diarienummer, the diarium, attachments, the journal.

Knows nothing of grants (DESIGN.md §2): a grant application is one kind of case.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class DiarieSerial(models.Model):
    """The last diarienummer serial handed out for a year; the row is locked while numbering."""

    year = models.PositiveIntegerField(primary_key=True)
    last_serial = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("diarieserie")

    def __str__(self):
        return f"{self.year}: {self.last_serial}"


class Case(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    diarienummer = models.CharField(_("diarienummer"), max_length=40, unique=True, null=True, blank=True)
    diarie_year = models.PositiveIntegerField(null=True, blank=True)
    diarie_serial = models.PositiveIntegerField(null=True, blank=True)
    title = models.CharField(_("rubrik"), max_length=300)
    counterpart = models.CharField(_("motpart"), max_length=300)
    created_at = models.DateTimeField(_("skapad"), auto_now_add=True)
    registered_at = models.DateTimeField(_("registrerad"), null=True, blank=True)
    closed_at = models.DateTimeField(_("avslutad"), null=True, blank=True)
    # The journal's head: lets verify_journal notice events cut off the end of a chain.
    journal_seq = models.PositiveIntegerField(default=0, editable=False)
    journal_head = models.CharField(max_length=64, default="0" * 64, editable=False)

    class Meta:
        verbose_name = _("ärende")
        verbose_name_plural = _("ärenden")
        constraints = [
            models.UniqueConstraint(fields=["diarie_year", "diarie_serial"], name="case_unique_serial_per_year"),
        ]

    def __str__(self):
        return self.diarienummer or str(_("(ej diarieförd)"))


class DiariumEntry(models.Model):
    """One registered item of a case (OSL 5 kap. 1 §): date, diarienummer (the case's),
    sender or recipient and a short description. The public diarium (arenden.selectors)
    shows an entry only once its case has a diarienummer; an entry with a secrecy mark
    (OSL 5 kap. 1 § fjärde stycket: secret details may be left out) shows there only that
    the item exists, and a private person is never named there."""

    class Direction(models.TextChoices):
        INCOMING = "in", _("Inkommande")
        OUTGOING = "out", _("Utgående")
        INTERNAL = "internal", _("Upprättad")

    class Kind(models.TextChoices):
        APPLICATION = "ansokan", _("Ansökan")
        SUPPLEMENT = "komplettering", _("Komplettering")
        REPORT = "redovisning", _("Redovisning")
        DECISION = "beslut", _("Beslut")
        EMAIL = "epost", _("E-post")
        LETTER = "brev", _("Brev")
        # FL 27 §: information given orally that matters for the case is written down.
        PHONE_NOTE = "tjansteanteckning", _("Tjänsteanteckning (FL 27 §)")
        OTHER = "handling", _("Övrig handling")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="diarium_entries")
    entry_date = models.DateField(_("datum"))
    direction = models.CharField(_("riktning"), max_length=10, choices=Direction.choices)
    kind = models.CharField(_("typ av handling"), max_length=20, choices=Kind.choices, default=Kind.OTHER)
    counterpart = models.CharField(_("avsändare/mottagare"), max_length=300)
    # A private person's name never reaches the public diarium; an organisation's does.
    counterpart_private = models.BooleanField(_("avsändaren/mottagaren är en privatperson"), default=False)
    description = models.CharField(_("kort beskrivning"), max_length=300)
    # What the public diarium shows instead of `description` when that names a person.
    public_description = models.CharField(_("beskrivning i den allmänna diarieförteckningen"), max_length=300,
                                          blank=True)
    # Sekretessmarkering: the provision secrecy may rest on ("OSL 21 kap. 7 §"). Marked: the
    # public diarium hides sender/recipient and description.
    secrecy = models.CharField(_("sekretessmarkering"), max_length=200, blank=True)
    # The content of a tjänsteanteckning (FL 27 §), or a note on the item; staff only.
    note = models.TextField(_("anteckning"), blank=True)
    attachment = models.ForeignKey(
        "Attachment", on_delete=models.PROTECT, null=True, blank=True, related_name="diarium_entries"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True)

    class Meta:
        verbose_name = _("diariepost")
        verbose_name_plural = _("diarieposter")
        ordering = ["created_at"]
        # The public diarium's order (newest first, by keyset) and its date range.
        indexes = [models.Index(fields=["entry_date", "created_at", "id"], name="diarium_entry_date_order")]

    def __str__(self):
        return f"{self.entry_date} {self.description}"


def attachment_upload_to(instance: "Attachment", filename: str) -> str:
    # The stored name never carries the user's filename: that is kept in original_name.
    return f"cases/{instance.case_id}/{instance.id}"


class Attachment(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="attachments")
    kind = models.CharField(_("typ"), max_length=40)
    file = models.FileField(upload_to=attachment_upload_to, max_length=300)
    original_name = models.CharField(_("filnamn"), max_length=255)
    content_type = models.CharField(_("filtyp"), max_length=100)
    size = models.PositiveBigIntegerField(_("storlek"))
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(_("uppladdad"), auto_now_add=True)

    class Meta:
        verbose_name = _("bilaga")
        verbose_name_plural = _("bilagor")
        ordering = ["uploaded_at"]

    def __str__(self):
        return self.original_name


class ConflictOfInterest(models.Model):
    """A declared jäv (FL 16–18 §§): the declarer takes no part in the case until the
    agency has ruled. Append-only: the database refuses UPDATE and DELETE (migration 0004);
    the ruling is a row of its own."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="conflicts")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(_("skäl"))
    declared_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("jävsanmälan")
        verbose_name_plural = _("jävsanmälningar")
        ordering = ["declared_at"]

    def __str__(self):
        return f"{self.user} ({self.declared_at:%Y-%m-%d})"


class ConflictRuling(models.Model):
    """The agency's ruling on a declared jäv (FL 18 §). Upheld: the declarer stays out of
    the case for good; not upheld: the declarer may take part again. Append-only."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    declaration = models.OneToOneField(ConflictOfInterest, on_delete=models.PROTECT, related_name="ruling")
    upheld = models.BooleanField(_("jäv föreligger"))
    reasons = models.TextField(_("skäl"))
    ruled_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    ruled_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("beslut i jävsfråga")
        verbose_name_plural = _("beslut i jävsfrågor")

    def __str__(self):
        return f"{self.declaration}: {'jäv' if self.upheld else 'inte jäv'}"


class JournalEvent(models.Model):
    """One append-only, hash-chained event per state change of a case.

    UPDATE, DELETE and TRUNCATE are refused by the database itself (migration 0002).
    """

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="journal")
    seq = models.PositiveIntegerField()
    occurred_at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    actor_label = models.CharField(max_length=300)
    actor_roles = models.JSONField(default=list)
    action = models.CharField(max_length=60)
    from_state = models.CharField(max_length=40, blank=True)
    to_state = models.CharField(max_length=40, blank=True)
    payload = models.JSONField(default=dict)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        verbose_name = _("journalhändelse")
        verbose_name_plural = _("journalhändelser")
        ordering = ["case", "seq"]
        constraints = [models.UniqueConstraint(fields=["case", "seq"], name="journal_unique_seq_per_case")]
        indexes = [models.Index(fields=["occurred_at"])]

    def __str__(self):
        return f"{self.case_id} #{self.seq} {self.action}"


class JournalCheckpoint(models.Model):
    """A signed record of every journal chain's head, written to object storage as an
    object never overwritten (arenden.checkpoints). This row says where it is and what it
    held; verify_journal trusts the signed object, not this row. Append-only (migration 0006)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(_("skapad"))
    bucket = models.CharField(max_length=63)
    object_key = models.CharField(max_length=300, unique=True)
    version_id = models.CharField(max_length=200, blank=True)
    merkle_root = models.CharField(max_length=64)
    signature = models.CharField(max_length=64)
    chain_count = models.PositiveIntegerField()
    event_count = models.PositiveBigIntegerField()
    # S3 Object Lock as the server applied it ("" when the bucket has none).
    lock_mode = models.CharField(max_length=20, blank=True)
    retain_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("journalkontrollpunkt")
        verbose_name_plural = _("journalkontrollpunkter")
        ordering = ["created_at"]

    def __str__(self):
        return self.object_key


class CaseRead(models.Model):
    """Who read what of a case, and when (issue 9): the case page, its journal, an
    attachment, a letter, the applicant's own page. One INSERT per read and nothing else:
    no SELECT, and no foreign-key check, which would take a KEY SHARE lock on the case row
    and so wait behind every action holding the case FOR UPDATE (DESIGN.md §3). The case
    and the reader are never deleted (PROTECT, as everywhere), so the ids stay good.
    Append-only: the database refuses UPDATE, DELETE and TRUNCATE (migration 0009)."""

    class Kind(models.TextChoices):
        CASE_PAGE = "arende", _("Ärendet")
        JOURNAL = "handelselogg", _("Händelseloggen")
        READS = "lasningar", _("Läsningarna av ärendet")
        APPLICATION = "ansokan", _("Ansökan, sökandens sida")
        SUBMITTED_VERSION = "inskickad", _("Ansökan som den skickades in")
        RECEIPT = "kvitto", _("Mottagningskvitto")
        ATTACHMENT = "bilaga", _("Bilaga")
        LETTER = "beslutsbrev", _("Beslutsbrev")
        COURT_LETTER = "oversandelse", _("Översändelse till domstol")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="reads", db_constraint=False,
                             db_index=False)
    reader = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                               db_constraint=False, db_index=False)
    # The reader's name and roles as they were, like the journal's actor.
    reader_label = models.CharField(max_length=300)
    reader_roles = models.JSONField(default=list)
    read_at = models.DateTimeField()
    kind = models.CharField(max_length=20, choices=Kind.choices)
    # The attachment or decision read, and its name (an attachment's file name).
    object_id = models.UUIDField(null=True, blank=True)
    detail = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name = _("läsning av ärende")
        verbose_name_plural = _("läsningar av ärenden")
        # The two lists, newest first by keyset (arenden.reads.READ_ORDER): a case's reads,
        # and every read, by one reader or all, in a period. The indexes lead with the
        # filtered column, so no other index on case or reader is needed.
        indexes = [
            models.Index(fields=["case", "read_at", "id"], name="case_read_case_order"),
            models.Index(fields=["reader", "read_at", "id"], name="case_read_reader_order"),
            models.Index(fields=["read_at", "id"], name="case_read_order"),
        ]

    def __str__(self):
        return f"{self.reader_label} {self.read_at:%Y-%m-%d %H:%M} {self.kind}"
