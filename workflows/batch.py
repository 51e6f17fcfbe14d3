"""Batch decisions from a call's ranking (issue 7): one decision per application, each
through the door exactly as the single decide action (roles, jäv, four eyes, the task),
all in one transaction, so they are taken all or none.

Each door call opens its own savepoint inside the outer transaction; its locks (the
application, its case, its tasks, in that order) are held until the whole batch commits,
so the applications are taken in one fixed order (by id) and two batches over the same
proposals queue instead of deadlocking. Nothing here talks to the network: each decision
writes its outbox rows and queues its letter as rows in this transaction; they are sent
and stored after the commit.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from arenden.actors import Actor
from arenden.errors import NotFound, ServiceError, ValidationFailed
from bidrag.events import Event
from bidrag.models import Application, Call, Decision, Proposal

from . import door

# One batch decides at most this many: the locks are held until it commits.
BATCH_LIMIT = 500


class BatchRefused(ServiceError):
    """One decision of the batch was refused, so none was taken: which one, and why."""

    def __init__(self, *, application: Application, error: ServiceError):
        number = application.case.diarienummer or application.title
        super().__init__(
            _("Inget beslut fattades. %(number)s (%(organisation)s): %(reason)s")
            % {"number": number, "organisation": application.organisation.name, "reason": error.message},
            code=error.code, details={"application": str(application.pk), **error.details},
        )
        self.http_status = error.http_status
        self.application = application
        self.error = error


def open_proposals(application_ids: Iterable) -> dict:
    """The open decision proposal of each application (what the confirmation shows)."""
    return {
        p.application_id: p
        for p in Proposal.objects.filter(
            application_id__in=list(application_ids), is_open=True, kind=Proposal.Kind.DECISION
        ).select_related("proposed_by")
    }


def decide_all(*, actor: Actor, call: Call, application_ids: Iterable) -> list[Decision]:
    """Decide every application named, each on its open proposal, or none of them.

    Refused as a whole (BatchRefused naming the application) as soon as one decision is
    refused; an application of another call, or one the actor may not see, is NotFound."""
    ids = sorted({str(pk) for pk in application_ids})
    if not ids:
        raise ValidationFailed(_("Markera de förslag du vill besluta om."))
    if len(ids) > BATCH_LIMIT:
        raise ValidationFailed(_("Högst %(limit)s beslut åt gången.") % {"limit": BATCH_LIMIT})
    applications = {
        str(a.pk): a
        for a in Application.objects.filter(pk__in=ids, call=call, case__diarienummer__isnull=False)
        .select_related("case", "organisation")
    }
    if len(applications) != len(ids):
        raise NotFound(_("En av ansökningarna finns inte i utlysningen."))
    decisions = []
    with transaction.atomic():
        for pk in ids:
            try:
                decisions.append(door.act(actor=actor, application_id=pk, node="decide", action=Event.DECIDE))
            except ServiceError as error:
                raise BatchRefused(application=applications[pk], error=error) from error
    return decisions
