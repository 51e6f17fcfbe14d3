"""Row locks of the grant domain, in the one order every writer takes them.

    1. the application row           lock_application
    2. its case row                  lock_case (journal_append takes it again: a no-op)
    3. its open task rows            lock_tasks (viewflow's, for the door in workflows)
    4. the rows an action works on   lock_disbursement, lock_report, lock_repayment
    5. the year's diarienummer serial, taken last by a submission and held to commit
       (arenden.services.case_assign_diarienummer): every submission of the year queues
       on it, so the submission takes it as its final step

Every lock is `select_for_update(of=("self",))`: a joined table in the query is read, never
locked, so one application's lock never locks its Call or Organisation (PostgreSQL locks
every table in the FROM clause otherwise, and every application of a call would queue).
No network I/O (S3, SMTP) while any of these is held: uploads are stored before, mail is
written to the outbox and sent after commit.
"""

from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from arenden.models import Case

from .models import Application, Disbursement, Repayment, Report

ACTIVE_TASK = (STATUS.NEW, STATUS.ASSIGNED, STATUS.STARTED)


def lock_application(application_id) -> Application:
    """A fresh, locked instance; its case, organisation and call load when first used."""
    return Application.objects.select_for_update(of=("self",)).get(pk=application_id)


def lock_case(case_id) -> Case:
    return Case.objects.select_for_update(of=("self",)).get(pk=case_id)


def lock_tasks(application_id) -> list[Task]:
    """The application's open tasks, oldest first."""
    return list(
        Task.objects.select_for_update(of=("self",))
        .filter(process__applicationprocess__application_id=application_id, status__in=ACTIVE_TASK)
        .select_related("owner")
        .order_by("created", "pk")
    )


def lock_disbursement(application: Application) -> Disbursement | None:
    """The application's disbursement in progress (not stopped), if any."""
    return (
        Disbursement.objects.select_for_update(of=("self",))
        .filter(application=application)
        .exclude(status=Disbursement.Status.STOPPED)
        .order_by("-prepared_at")
        .first()
    )


def lock_report(application: Application) -> Report | None:
    """The submitted report waiting for review, if any."""
    return (
        Report.objects.select_for_update(of=("self",))
        .filter(application=application, kind=Report.Kind.FINAL, status=Report.Status.SUBMITTED)
        .first()
    )


def lock_repayment(application: Application) -> Repayment | None:
    """The open repayment claim, if any."""
    return (
        Repayment.objects.select_for_update(of=("self",))
        .filter(application=application, status=Repayment.Status.CLAIMED)
        .first()
    )
