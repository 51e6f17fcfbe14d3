"""Seeding the benchmark database: 10 000 submitted applications, fast but faithful.

Taking 10 000 applications through the real services costs many minutes (three S3 uploads
and dozens of statements each). Instead a few are taken through the real path
(``workflows.demo.new_application`` + ``demo.drive(to=SUBMITTED)``), and each of them
serves as the template of its call: every row the real path wrote for it is cloned for the
bulk applications, with the template's own identifiers (title, organisation, orgnr,
diarienummer, requested amount, primary key) replaced by the new application's, and its
times shifted. So the bulk rows have exactly the shape of real ones:

* case with the next diarienummer of the year (``DiarieSerial.last_serial`` is bumped),
* application in status ``submitted`` with its budget line,
* attachment rows (they point at the template's S3 objects: uploading 30 000 objects would
  dominate the run, and neither the queue page nor the transitions read them),
* journal events forming valid hash chains (``arenden.journal.event_digest``),
* the diarium entry of the incoming application,
* the submitted version (what the applicant signed: its total is the requested amount),
* outbox rows, marked as sent (a settled database has delivered its receipts; the task
  worker's own bookkeeping rows, ``django_tasks_database_dbtaskresult``, are left out),
* viewflow ``Process`` + ``ApplicationProcess``, the finished start task and the open
  registration task with its ``previous`` link, as ``ApplicationFlow.start`` writes them.

``seed()`` ends with ``manage.py verify_journal`` on the whole journal and ``VACUUM ANALYZE``.
"""

from __future__ import annotations

import io
import random
import re
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import JSONField, Max
from django.db.models.fields.files import FieldFile
from psycopg.types.json import Jsonb
from viewflow.workflow.models import Process, Task

from arenden.journal import GENESIS_HASH, event_digest, normalise_payload
from arenden.models import Attachment, Case, DiarieSerial, DiariumEntry, JournalEvent
from arenden.services import format_diarienummer
from bidrag.models import Application, BudgetLine, Membership, Organisation, SubmittedVersion
from bidrag.models.application import Status
from bidrag.submitted import digest
from notifications.models import OutboxMessage
from workflows import demo
from workflows.models import ApplicationProcess
from workflows.queue_entries import queue_rebuild

BATCH = 2000


def _settle_statement() -> str:
    """VACUUM ANALYZE where it may run (outside a transaction: the benchmarks that commit);
    ANALYZE inside one (a benchmark in the test's transaction)."""
    return "ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE"

TOPICS = [
    "Trygghetsvandringar och föräldranätverk",
    "Situationell prevention i centrum",
    "Samverkan mot ungdomsbrottslighet",
    "Belysning och trygghet i parker",
    "Förebyggande arbete mot skadegörelse",
    "Trygg skolväg",
    "Lokal lägesbild och åtgärdsplan",
    "Utvärdering av grannsamverkan",
    "Föreningsliv mot nyrekrytering",
    "Trygghet i kollektivtrafiken",
]


@dataclass
class Seeded:
    cast: demo.Cast
    real: list = field(default_factory=list)  # Application, taken through the real path
    bulk_ids: list = field(default_factory=list)  # Application pks inserted in bulk, oldest first
    timings: dict = field(default_factory=dict)  # phase -> seconds
    journal_report: str = ""
    events_per_case: int = 0  # each bulk case's journal padded to this many events (0: the template's)


class _Substitution:
    """Replace a template's own identifiers inside text and JSON, in one pass (no chaining)."""

    def __init__(self, mapping: dict[str, str]):
        self.mapping = {k: v for k, v in mapping.items() if k and k != v}
        keys = sorted(self.mapping, key=len, reverse=True)
        self.pattern = re.compile("|".join(map(re.escape, keys))) if keys else None

    def __call__(self, value):
        if self.pattern is None:
            return value
        if isinstance(value, str):
            return self.pattern.sub(lambda m: self.mapping[m.group(0)], value)
        if isinstance(value, dict):
            return {k: self(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self(v) for v in value]
        return value


def _row(obj, *, subst, shift: timedelta, **overrides) -> dict:
    """As _clone, as a dict of column values for COPY (no model instance: at 100 000
    applications the instances alone cost minutes)."""
    values = {}
    for f in _copied_fields(type(obj)):
        if f.attname in overrides:
            continue
        value = getattr(obj, f.attname)
        if isinstance(value, FieldFile):
            value = value.name
        elif isinstance(value, datetime):
            value = value + shift
        else:
            value = subst(value)
        values[f.attname] = value
    values.update(overrides)
    return values


def _clone(obj, *, subst, shift: timedelta, **overrides):
    """As _row, as a new unsaved instance (for the tables whose ids bulk_create returns)."""
    return type(obj)(**_row(obj, subst=subst, shift=shift, **overrides))


def _copied_fields(model) -> list:
    """The columns COPY writes: every concrete one but a database-generated primary key."""
    return [f for f in model._meta.concrete_fields
            if not f.generated and not (f.primary_key and f.get_internal_type().endswith("AutoField"))]


def _copy(model, rows: list[dict]) -> None:
    """`COPY … FROM STDIN`: the rows as they are, without the ORM's INSERT compiler (most of
    bulk_create's time at this size); the tables' triggers fire as on INSERT."""
    if not rows:
        return
    fields = _copied_fields(model)
    columns = ", ".join(f'"{f.column}"' for f in fields)
    json = [isinstance(f, JSONField) for f in fields]
    names = [f.attname for f in fields]
    with connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg's own cursor under Django's wrapper
        with raw.copy(f'COPY "{model._meta.db_table}" ({columns}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row([Jsonb(row[n]) if j and row[n] is not None else row[n] for n, j in zip(names, json, strict=True)])


@dataclass
class _Template:
    """Every row the real path wrote for one submitted application."""

    application: Application
    case: Case
    budget_lines: list
    attachments: list
    events: list
    diarium: list
    outbox: list
    process: Process
    tasks: list
    previous: list  # (index of from_task, index of to_task) into tasks
    submitted: SubmittedVersion  # what the applicant signed (the queue's amount filter reads its total)

    @classmethod
    def load(cls, application: Application) -> _Template:
        application = Application.objects.select_related("case", "organisation", "call").get(pk=application.pk)
        case = application.case
        process_id = ApplicationProcess.objects.get(application=application).pk
        tasks = list(Task.objects.filter(process_id=process_id).order_by("pk"))
        index = {t.pk: i for i, t in enumerate(tasks)}
        through = Task.previous.through
        previous = [
            (index[f], index[t])
            for f, t in through.objects.filter(from_task__process_id=process_id).values_list("from_task_id", "to_task_id")
        ]
        return cls(
            application=application,
            case=case,
            budget_lines=list(application.budget_lines.order_by("pk")),
            attachments=list(case.attachments.order_by("uploaded_at")),
            events=list(case.journal.order_by("seq")),
            diarium=list(case.diarium_entries.order_by("created_at")),
            outbox=list(OutboxMessage.objects.filter(reference=f"application:{application.pk}").order_by("created_at")),
            process=Process.objects.get(pk=process_id),
            tasks=tasks,
            previous=previous,
            submitted=SubmittedVersion.objects.get(application=application),
        )

    def shape(self) -> dict:
        return {
            "budget_lines": len(self.budget_lines),
            "attachments": len(self.attachments),
            "events": [(e.action, e.from_state, e.to_state) for e in self.events],
            "diarium": len(self.diarium),
            "outbox": len(self.outbox),
            "tasks": [(str(t.flow_task), t.flow_task_type, t.status, t.owner_permission) for t in self.tasks],
            "previous": self.previous,
        }


def _real_path(seeded: Seeded, reference: dict, count: int) -> None:
    """Applications through the real services and flow, alternating the two calls."""
    calls = [reference["calls"]["kommunala-atgarder"], reference["calls"]["utvardering"]]
    municipalities = list(Organisation.objects.exclude(kommunkod="").order_by("kommunkod"))
    for i in range(count):
        call = calls[i % 2]
        organisation = municipalities[i]
        application = demo.new_application(
            cast=seeded.cast, organisation=organisation, call=call, title=f"Mallansökan {i + 1:02d}: {TOPICS[i % len(TOPICS)]}"
        )
        seeded.real.append(demo.drive(application=application, to=Status.SUBMITTED, cast=seeded.cast))


def _plan_bulk(reference: dict, total: int) -> list[tuple]:
    """(call, organisation) for each bulk application; one per municipality where the call says so."""
    plan = []
    for call in reference["calls"].values():
        eligible = [
            o for o in Organisation.objects.order_by("kommunkod", "orgnr") if o.legal_form in call.scheme.eligible_legal_forms
        ]
        if call.one_application_per_organisation:
            taken = set(Application.objects.filter(call=call).values_list("organisation_id", flat=True))
            plan.extend((call, o) for o in eligible if o.pk not in taken)
    # The remainder goes to the call that takes several applications per organisation.
    many = next(c for c in reference["calls"].values() if not c.one_application_per_organisation)
    eligible = [o for o in Organisation.objects.order_by("kommunkod", "orgnr") if o.legal_form in many.scheme.eligible_legal_forms]
    i = 0
    while len(plan) < total:
        plan.append((many, eligible[i % len(eligible)]))
        i += 1
    plan = plan[:total]
    # Mix calls and organisations in arrival order, as real arrivals would; the same order every run.
    random.Random(2026).shuffle(plan)
    return plan


def _with_history(events: list, history: int) -> list[dict]:
    """The template's events (as rows) with `history` more of the draft's own kind after
    the first (a signature asked for again and again before submission: no state change),
    each a microsecond after the one before, renumbered by the caller: a longer chain per
    case, the way a case that has lived a while has one."""
    rows = [_row(e, subst=_Substitution({}), shift=timedelta()) for e in events]
    first, rest = rows[0], rows[1:]
    fillers = [
        {**first, "action": "request_signature", "from_state": first["to_state"], "payload": {"bench": k},
         "occurred_at": first["occurred_at"] + timedelta(microseconds=k)}
        for k in range(1, history + 1)
    ]
    return [first, *fillers, *rest]


def _shifted(row: dict, *, subst, shift: timedelta, **overrides) -> dict:
    """A copy of a row: text substituted, times shifted, `overrides` set."""
    values = {k: (v + shift if isinstance(v, datetime) else subst(v)) for k, v in row.items() if k not in overrides}
    values.update(overrides)
    return values


def _bulk(seeded: Seeded, reference: dict, total: int, templates: dict) -> None:
    cast = seeded.cast
    plan = _plan_bulk(reference, total)
    Membership.objects.bulk_create(
        [
            Membership(organisation=org, user=user, role=role)
            for org in {o for _, o in plan}
            for user, role in ((cast.signatory, Membership.Role.SIGNATORY), (cast.applicant, Membership.Role.APPLICANT))
        ],
        ignore_conflicts=True,
        batch_size=BATCH,
    )
    serial_row = DiarieSerial.objects.select_for_update().get(year=seeded.real[0].case.diarie_year)
    year, serial = serial_row.year, serial_row.last_serial
    # After the newest submission so far (the real ones, or an earlier bulk when growing).
    last_real = Application.objects.aggregate(newest=Max("submitted_at"))["newest"]

    cases, applications, lines, attachments, events, diarium, outbox, processes, tasks = ([] for _ in range(9))
    versions = []
    histories: dict = {}  # (call, events per case) -> the template's chain as rows, computed once
    process_links, previous_links = [], []  # (process index, application pk), (from index, to index) into tasks
    for i, (call, organisation) in enumerate(plan):
        t = templates[call.pk]
        tapp = t.application
        serial += 1
        app_id, case_id = uuid.uuid4(), uuid.uuid4()
        title = f"{TOPICS[i % len(TOPICS)]} – {organisation.name} {serial}"
        amount = Decimal(100000 + (i * 7919 % 60) * 5000).quantize(Decimal("0.01"))
        diarienummer = format_diarienummer(year=year, serial=serial)
        subst = _Substitution(
            {
                tapp.title: title,
                str(tapp.pk): str(app_id),
                tapp.organisation.name: organisation.name,
                tapp.organisation.orgnr_display: organisation.orgnr_display,
                tapp.organisation.email: organisation.email,
                t.case.diarienummer: diarienummer,
                str(sum(b.amount for b in t.budget_lines)): str(amount),
            }
        )
        # Submitted one after the other, right after the last one: serials follow time.
        shift = last_real + timedelta(microseconds=200 * (i + 1)) - tapp.submitted_at

        cases.append(_row(t.case, subst=subst, shift=shift, id=case_id, diarie_year=year, diarie_serial=serial))
        applications.append(
            # exclusive_key None: 10 000 applications from 290 municipalities cannot keep the
            # call's one place per organisation; the bulk rows stand outside that rule.
            _row(tapp, subst=subst, shift=shift, id=app_id, case_id=case_id, organisation_id=organisation.pk,
                   status=Status.SUBMITTED, exclusive_key=None)
        )
        # The template's lines in the same proportions, the last one taking what rounding leaves.
        template_total = sum(b.amount for b in t.budget_lines)
        shares = [(b.amount * amount / template_total).quantize(Decimal("1")) for b in t.budget_lines[:-1]]
        shares.append(amount - sum(shares, Decimal("0")))
        lines.extend(
            _row(b, subst=subst, shift=shift, id=uuid.uuid4(), application_id=app_id, amount=share)
            for b, share in zip(t.budget_lines, shares, strict=True)
        )
        attachments.extend(
            _row(a, subst=subst, shift=shift, id=uuid.uuid4(), case_id=case_id) for a in t.attachments
        )
        prev_hash = GENESIS_HASH
        chain = histories.setdefault((call.pk, seeded.events_per_case),
                                     _with_history(t.events, max(0, seeded.events_per_case - len(t.events))))
        for seq, e in enumerate(chain, start=1):
            event = _shifted(e, subst=subst, shift=shift, case_id=case_id, prev_hash=prev_hash, hash="", seq=seq)
            event["payload"] = normalise_payload(event["payload"])
            event["hash"] = event_digest(
                case_id=case_id, seq=seq, occurred_at=event["occurred_at"], actor_id=event["actor_id"],
                actor_label=event["actor_label"], actor_roles=event["actor_roles"], action=event["action"],
                from_state=event["from_state"], to_state=event["to_state"], payload=event["payload"], prev_hash=prev_hash,
            )
            prev_hash = event["hash"]
            events.append(event)
        cases[-1]["journal_seq"], cases[-1]["journal_head"] = len(chain), prev_hash  # the chain's head, as journal_append keeps it
        diarium.extend(_row(d, subst=subst, shift=shift, id=uuid.uuid4(), case_id=case_id) for d in t.diarium)
        outbox.extend(
            _row(m, subst=subst, shift=shift, id=uuid.uuid4(), status=OutboxMessage.Status.SENT, attempts=1,
                 sent_at=m.created_at + shift + timedelta(seconds=2))
            for m in t.outbox
        )
        content = subst(t.submitted.content)
        versions.append(_row(t.submitted, subst=subst, shift=shift, id=uuid.uuid4(), application_id=app_id,
                             content=content, sha256=digest(content)))
        process_links.append((len(processes), app_id))
        processes.append(_clone(t.process, subst=subst, shift=shift))
        base = len(tasks)
        tasks.extend(_clone(task, subst=subst, shift=shift, process_id=None) for task in t.tasks)
        previous_links.extend((base + f, base + to) for f, to in t.previous)
        seeded.bulk_ids.append(app_id)

    for model, rows in ((Case, cases), (Application, applications), (BudgetLine, lines), (SubmittedVersion, versions),
                        (Attachment, attachments), (JournalEvent, events), (DiariumEntry, diarium),
                        (OutboxMessage, outbox)):
        _copy(model, rows)
    Process.objects.bulk_create(processes, batch_size=BATCH)
    # Multi-table inheritance: bulk_create refuses the child model, so its rows go in by hand.
    child = ApplicationProcess._meta
    with connection.cursor() as cursor:
        cursor.executemany(
            f'INSERT INTO "{child.db_table}" ("{child.pk.column}", "{child.get_field("application").column}") '
            "VALUES (%s, %s)",
            [(processes[p].pk, app_id) for p, app_id in process_links],
        )
    # Tasks were cloned in process order, the same number per process: fill in each one's process.
    per_process = len(tasks) // len(processes)
    assert per_process * len(processes) == len(tasks)
    for n, task in enumerate(tasks):
        task.process_id = processes[n // per_process].pk
    Task.objects.bulk_create(tasks, batch_size=BATCH)
    through = Task.previous.through
    through.objects.bulk_create(
        [through(from_task_id=tasks[f].pk, to_task_id=tasks[to].pk) for f, to in previous_links], batch_size=BATCH
    )
    serial_row.last_serial = serial
    serial_row.save(update_fields=["last_serial"])
    # The queues' rows, as the door would have written them (workflows.queue_entries).
    queue_rebuild([app_id for _p, app_id in process_links])


def seed(*, total: int = 10_000, real: int = 20, log=print, events_per_case: int = 0) -> Seeded:
    """`events_per_case`: each bulk case's journal padded to this many events (_with_history)."""
    started = time.perf_counter()
    reference = demo.reference_data_ensure()
    seeded = Seeded(cast=demo.cast_ensure(password=None), events_per_case=events_per_case)
    seeded.timings["reference data and cast"] = time.perf_counter() - started

    mark = time.perf_counter()
    _real_path(seeded, reference, real)
    seeded.timings[f"{real} applications through the real path"] = time.perf_counter() - mark
    log(f"  seeded {real} applications through the real services in {time.perf_counter() - mark:.1f} s")

    mark = time.perf_counter()
    templates = {}
    for application in seeded.real:
        t = _Template.load(application)
        first = templates.setdefault(application.call_id, t)
        # Every real application of a call must look the same, or one template cannot stand for all.
        assert t.shape() == first.shape(), (t.shape(), first.shape())
    with transaction.atomic():
        _bulk(seeded, reference, total - real, templates)
    seeded.timings[f"{total - real} applications in bulk"] = time.perf_counter() - mark
    log(f"  inserted {total - real} applications in bulk in {time.perf_counter() - mark:.1f} s")

    mark = time.perf_counter()
    out = io.StringIO()
    call_command("verify_journal", stdout=out, stderr=out)  # raises CommandError on a broken chain
    seeded.journal_report = out.getvalue().strip()
    seeded.timings["manage.py verify_journal"] = time.perf_counter() - mark
    log(f"  {seeded.journal_report} ({time.perf_counter() - mark:.1f} s)")

    mark = time.perf_counter()
    with connection.cursor() as cursor:
        # As autovacuum would have by the time such a queue exists: statistics, and the
        # visibility map that lets an index-only scan skip the table (a fresh bulk load has none).
        cursor.execute(_settle_statement())
    seeded.timings["ANALYZE"] = time.perf_counter() - mark
    return seeded


def grow(seeded: Seeded, *, total: int, log=print) -> None:
    """More bulk applications, cloned from the same templates, until there are `total`: the
    same database measured at 10 000 and then at 100 000 (tests/bench/test_case_lists.py)."""
    extra = total - Application.objects.count()
    if extra <= 0:
        return
    mark = time.perf_counter()
    templates = {}
    for application in seeded.real:
        templates.setdefault(application.call_id, _Template.load(application))
    with transaction.atomic():
        _bulk(seeded, demo.reference_data_ensure(), extra, templates)
    seeded.timings[f"{extra} more applications in bulk"] = time.perf_counter() - mark
    log(f"  inserted {extra} more applications in bulk in {time.perf_counter() - mark:.1f} s")
    mark = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(_settle_statement())
    seeded.timings["ANALYZE after growing"] = time.perf_counter() - mark
