"""Domain fixtures shared by the suite: reference data, one user per role, applications
taken to any state through the real services and flow (workflows.demo)."""

from decimal import Decimal

import pytest
from django.db.backends.signals import connection_created

from bidrag.models import Organisation
from workflows import demo

STOCKHOLM = "2120000142"
MALMO = "2120001124"
ASSOCIATION = "8024000005"


def _allow_test_truncate(sender, connection, **kwargs):
    # The journal refuses TRUNCATE (arenden/appendonly.py); the suite's own connections
    # may empty the throw-away test database between transactional tests.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET bidrag.allow_truncate = on")


connection_created.connect(_allow_test_truncate)


@pytest.fixture
def reference(db):
    return demo.reference_data_ensure()


@pytest.fixture
def cast(db):
    return demo.cast_ensure(password=None)


@pytest.fixture
def call(reference):
    return reference["calls"]["kommunala-atgarder"]


@pytest.fixture
def stockholm(reference):
    return Organisation.objects.get(orgnr=STOCKHOLM)


@pytest.fixture
def malmo(reference):
    return Organisation.objects.get(orgnr=MALMO)


@pytest.fixture
def draft(cast, call, stockholm):
    """A complete, submittable draft of Stockholms stad."""
    return demo.new_application(cast=cast, organisation=stockholm, call=call, title="Trygg i Stockholm")


@pytest.fixture
def make_application(cast, call, reference):
    """make_application(to=state, organisation=..., amount=...) → an application in that state."""

    def make(*, to, organisation=None, title="Testprojekt", amount=Decimal("300000")):
        organisation = organisation or Organisation.objects.get(orgnr=STOCKHOLM)
        application = demo.new_application(cast=cast, organisation=organisation, call=call, title=title, complete=False)
        demo.complete_draft(application=application, actor=cast.applicant, amount=amount)
        return demo.drive(application=application, to=to, cast=cast)

    return make


def perform(*, actor, application, node, action, data=None):
    """One action through the door, as the pages take it."""
    from workflows import door

    return door.act(actor=actor, application_id=application.pk, node=node, action=action, data=data or {})


def submit(*, actor, application, idempotency_key=""):
    """The signatory submits through the door; returns a fresh instance."""
    from bidrag.models import Application

    perform(actor=actor, application=application, node="start", action="submit",
            data={"idempotency_key": idempotency_key})
    return Application.objects.select_related("case").get(pk=application.pk)


def to_queue(application) -> None:
    """Put every task of the case back in its queue, as if its holder had released it: the
    case stays with its handler after each step (workflows.door._keep_with_its_handler), and
    a test of who may take a step starts from an unassigned one."""
    from django.db import transaction

    from bidrag.locks import lock_tasks
    from workflows.queue_entries import queue_sync

    with transaction.atomic():
        for task in lock_tasks(application.pk):
            if task.owner_id:
                task.flow_task.activation_class(task).unassign()
        queue_sync(application.pk)  # the queue's rows follow, as after the door's release


# Reasons for a proposal that goes against the applicant, as FL 32 § and the call's minimum
# want them (bidrag.services.decisions.check_reasons), and the FL 25 § note for a proposal
# made without communicating first (check_communicated).
REFUSAL_REASONS = (
    "Projektet avser befintlig kommunal verksamhet: fältarbetet bedrivs redan inom "
    "socialförvaltningens ordinarie budget, och bidrag lämnas inte för sådan verksamhet."
)
NOT_COMMUNICATED = "Beslutet grundas enbart på uppgifter som sökanden själv har lämnat."


def refusal(**data) -> dict:
    """The data of a rejection proposal that meets FL 25 § and FL 32 §."""
    return {"outcome": "rejected", "reasons": REFUSAL_REASONS, "communication_waived": NOT_COMMUNICATED, **data}
