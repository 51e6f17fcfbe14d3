"""One application through its whole life over HTTP, one user per role; and the other endings."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import F
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from arenden.journal import journal_verify
from bidrag.models import Application, Decision, Disbursement, Repayment
from bidrag.models.application import Status
from notifications.models import OutboxMessage
from tests.domain import NOT_COMMUNICATED, REFUSAL_REASONS, refusal
from workflows import demo
from workflows.models import ApplicationProcess

pytestmark = pytest.mark.django_db


def as_user(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def act(user, application, node, action, expect=302, **data):
    url = reverse("workflows:task_action", args=[application.pk, node, action])
    response = as_user(user).post(url, data)
    assert response.status_code == expect, response.content.decode()[:2000]
    return response


def status_of(application) -> str:
    return Application.objects.get(pk=application.pk).status


def pdf(name):
    return SimpleUploadedFile(name, b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n", content_type="application/pdf")


def test_whole_lifecycle_through_the_pages(cast, call, stockholm):
    from bidrag.models import Membership

    Membership.objects.create(organisation=stockholm, user=cast.applicant, role=Membership.Role.APPLICANT)
    demo.signatory_mandate_ensure(organisation=stockholm, user=cast.signatory, registrar=cast.registrar)
    applicant, signatory = as_user(cast.applicant), as_user(cast.signatory)
    # The firmatecknare says where Brå pays the grant (no disbursement is prepared without it).
    response = signatory.post(reverse("bidrag:payment_account_set", args=[stockholm.pk]),
                              {"method": "bankgiro", "number": "5050-1055"})
    assert response.status_code == 302

    # The applicant creates and fills in a draft.
    response = applicant.post(
        reverse("bidrag:application_create"),
        {"organisation": stockholm.pk, "call": call.pk, "track": call.tracks.order_by("position").first().pk,
         "title": "Trygga Skärholmen"},
    )
    assert response.status_code == 302
    application = Application.objects.get(title="Trygga Skärholmen")
    assert str(application.pk) in response["Location"]
    year = timezone.localdate().year + 1
    track = application.track
    for slug, fields in [
        ("projekt", {"title": "Trygga Skärholmen", "track": track.pk, "start_date": f"{year}-01-01",
                     "end_date": f"{year}-12-31"}),
        ("problemanalys", {"need": "Ökad otrygghet i centrum"}),
        ("mal", {"purpose": "Samordnare för trygghetsarbete", "goals": "Ökad trygghet"}),
        ("malgrupp", {"target_group": "Boende i centrum"}),
        ("metod", {"method": "Trygghetsvandringar"}),
        ("samverkan", {"partners": "Polisen"}),
        ("tidsplan", {"plan": "Rekrytering, genomförande, uppföljning"}),
        ("uppfoljning", {"evaluation": "Trygghetsmätning"}),
        ("andra-bidrag", {"other_state_grants_any": "no"}),
        ("forsakringar", {"declarations": ["declares_not_existing_activity", "declares_not_statutory_duty",
                                           "declares_no_other_state_grant"]}),
    ]:
        response = applicant.post(reverse("bidrag:application_step", args=[application.pk, slug]),
                                  {**fields, "action": "continue"})
        assert response.status_code == 302, (slug, response.content.decode()[:2000])
    for category, amount in [("staff", "250000"), ("material", "50000.50")]:
        response = applicant.post(
            reverse("bidrag:budget_line_add", args=[application.pk]),
            {"category": category, "description": "Kostnad", "amount": amount},
        )
        assert response.status_code == 302
    assert application.requested_amount() == Decimal("300000.50")
    for kind in ["lagesbild", "atgardsplan", "behorighet"]:
        response = applicant.post(
            reverse("bidrag:attachment_upload", args=[application.pk]), {"kind": kind, "file": pdf(f"{kind}.pdf")}
        )
        assert response.status_code == 302
    assert application.case.attachments.count() == 3

    # A member without signing authority cannot submit; the signatory can.
    response = applicant.post(reverse("workflows:submit", args=[application.pk]), {"idempotency_key": "a" * 32})
    assert response.status_code == 403
    assert status_of(application) == Status.DRAFT
    page = signatory.get(reverse("workflows:submit", args=[application.pk]))
    key = re.search(r'name="idempotency_key" value="([0-9a-f]+)"', page.content.decode()).group(1)
    response = signatory.post(reverse("workflows:submit", args=[application.pk]), {"idempotency_key": key})
    assert response.status_code == 302
    # The same submission again (double click) changes nothing and is not an error.
    response = signatory.post(reverse("workflows:submit", args=[application.pk]), {"idempotency_key": key})
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == Status.SUBMITTED
    assert re.fullmatch(r"\d{4}-\d{5}", application.case.diarienummer)
    assert application.case.journal.filter(action="submit").count() == 1

    # The registrar finds it in the queue and registers it.
    queue = as_user(cast.registrar).get(reverse("workflows:queue"))
    assert queue.status_code == 200
    assert application.case.diarienummer in queue.content.decode()
    act(cast.registrar, application, "register", "register", note="Inkommen via portalen")
    assert status_of(application) == Status.IN_REVIEW

    # The case officer claims the review, asks for a supplement; the applicant answers.
    response = as_user(cast.officer).post(reverse("workflows:task_claim", args=[application.pk, "review"]))
    assert response.status_code == 302
    act(cast.officer2, application, "review", "start_assessment", expect=403)  # claimed by a colleague
    deadline = (timezone.localdate() + timedelta(days=10)).isoformat()
    act(cast.officer, application, "review", "request_supplement", deadline=deadline, request_text="Bifoga budget per år")
    assert status_of(application) == Status.AWAITING_SUPPLEMENT
    detail = applicant.get(reverse("workflows:application_detail", args=[application.pk]))
    assert "Bifoga budget per år" in detail.content.decode()
    response = applicant.post(
        reverse("workflows:task_action", args=[application.pk, "await_supplement", "receive_supplement"]),
        {"answer": "Se bifogad fil", "file": pdf("budget.pdf")},
    )
    assert response.status_code == 302
    assert status_of(application) == Status.IN_REVIEW

    act(cast.officer, application, "review", "start_assessment")
    act(cast.officer, application, "assess", "communicate", deadline=deadline, request_text="Referensyttrande bifogas")
    assert status_of(application) == Status.AWAITING_COMMENTS
    response = signatory.post(
        reverse("workflows:task_action", args=[application.pk, "await_comments", "receive_comments"]), {"answer": "Inget att tillägga"}
    )
    assert response.status_code == 302
    act(
        cast.officer, application, "assess", "propose_decision",
        outcome="granted", amount="280000", reasons=REFUSAL_REASONS, conditions="Delvis beviljat: 280 000 kr",
        communication_waived=NOT_COMMUNICATED,
    )
    assert status_of(application) == Status.DECISION_PROPOSED

    # The decision maker decides; the decision records who decided and who presented.
    act(cast.decision_maker, application, "decide", "decide")
    assert status_of(application) == Status.GRANTED
    decision = Decision.objects.get(application=application)
    assert (decision.outcome, decision.amount) == (Decision.Outcome.GRANTED, Decimal("280000"))
    assert decision.decided_by == cast.decision_maker and decision.presented_by == cast.officer
    assert REFUSAL_REASONS[:40] in applicant.get(reverse("workflows:application_detail", args=[application.pk])).content.decode()

    # Disbursement: prepared by the officer, attested and paid by finance.
    act(cast.officer, application, "prepare_payment", "prepare_disbursement")
    act(cast.finance, application, "attest_payment", "attest_disbursement")
    act(cast.finance2, application, "pay", "pay_disbursement", payment_reference="PAIN001-2026-0001")
    assert status_of(application) == Status.IN_PROGRESS
    assert Disbursement.objects.get(application=application).status == Disbursement.Status.PAID

    # Final report by the signatory, approved by the officer: closed. Time passes first:
    # no final report before the project has started.
    Application.objects.filter(pk=application.pk).update(start_date=timezone.localdate())
    response = signatory.post(
        reverse("workflows:task_action", args=[application.pk, "await_report", "submit_report"]),
        demo.final_report(application),
    )
    assert response.status_code == 302
    assert status_of(application) == Status.REPORT_REVIEW
    act(cast.officer, application, "review_report", "approve_report", note="Godkänd")
    application.refresh_from_db()
    assert application.status == Status.CLOSED
    assert application.case.closed_at is not None
    assert ApplicationProcess.objects.get(application=application).status == "DONE"

    # Every state change is journaled once, in order, and the chain verifies.
    changes = list(
        application.case.journal.exclude(from_state="").exclude(from_state=F("to_state")).values_list("from_state", "to_state")
    )
    assert changes[0] == ("draft", "submitted") and changes[-1] == ("report_review", "closed")
    assert journal_verify(case_ids=[application.case_id]) == []
    kinds = set(OutboxMessage.objects.filter(reference=f"application:{application.pk}").values_list("kind", flat=True))
    assert {"submitted_receipt", "supplement_requested", "communication", "decision", "payment", "report_approved"} <= kinds


def test_reject_path(make_application, cast):
    application = make_application(to=Status.IN_ASSESSMENT)
    act(cast.officer, application, "assess", "propose_decision", outcome="rejected", reasons=REFUSAL_REASONS,
        communication_waived=NOT_COMMUNICATED)
    act(cast.decision_maker, application, "decide", "decide")
    application.refresh_from_db()
    assert application.status == Status.REJECTED
    assert application.decisions.get().outcome == Decision.Outcome.REJECTED
    assert ApplicationProcess.objects.get(application=application).status == "DONE"


def test_return_for_rework_then_decide(make_application, cast):
    application = make_application(to=Status.DECISION_PROPOSED)
    act(cast.decision_maker, application, "decide", "return_proposal", comment="Motivera beloppet")
    assert status_of(application) == Status.IN_ASSESSMENT
    act(cast.officer, application, "assess", "propose_decision", outcome="granted", amount="300000", reasons="Fullt ut")
    act(cast.decision_maker, application, "decide", "decide")
    assert status_of(application) == Status.GRANTED


def test_withdraw_path(make_application, cast):
    application = make_application(to=Status.IN_ASSESSMENT)
    response = as_user(cast.signatory).post(
        reverse("workflows:withdraw", args=[application.pk]), {"reason": "Annan finansiering", "confirm": "on"}
    )
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == Status.WITHDRAWN
    process = ApplicationProcess.objects.get(application=application)
    assert process.status == "CANCELED"
    assert not process.task_set.filter(status__in=["NEW", "ASSIGNED", "STARTED"]).exists()
    # Nothing is left in any queue, and the officer can no longer act on it.
    act(cast.officer, application, "assess", "propose_decision", expect=409, **refusal())


def test_dismiss_path(make_application, cast):
    application = make_application(to=Status.IN_REVIEW)
    act(cast.officer, application, "review", "propose_dismissal", reasons=REFUSAL_REASONS)
    assert status_of(application) == Status.IN_REVIEW
    act(cast.decision_maker, application, "dismiss", "dismiss")
    application.refresh_from_db()
    assert application.status == Status.DISMISSED
    assert application.decisions.get().outcome == Decision.Outcome.DISMISSED


def test_repayment_path(make_application, cast):
    application = make_application(to=Status.REPORT_REVIEW)
    act(cast.officer, application, "review_report", "propose_repayment", amount="40000", reasons=REFUSAL_REASONS)
    act(cast.decision_maker, application, "claim_repayment", "claim_repayment")
    assert status_of(application) == Status.REPAYMENT_CLAIMED
    assert Repayment.objects.get(application=application).amount == Decimal("40000")
    act(cast.finance, application, "settle_repayment", "register_repayment", note="Inbetalt 2026-11-30")
    application.refresh_from_db()
    assert application.status == Status.CLOSED
    assert Repayment.objects.get(application=application).status == Repayment.Status.REPAID


def test_repayment_waived_on_a_proposal_by_someone_else(make_application, cast):
    application = make_application(to=Status.REPAYMENT_CLAIMED)
    act(cast.finance, application, "settle_repayment", "propose_waiver", reasons="Särskilda skäl: kommunen har visat god tro")
    act(cast.decision_maker, application, "decide_waiver", "waive_repayment")
    assert status_of(application) == Status.CLOSED
    waiver = application.decisions.get(outcome=Decision.Outcome.REPAYMENT_WAIVED)
    # Myndighetsförordningen 21 §: the one who presented and the one who decided, two people.
    assert (waiver.presented_by, waiver.decided_by) == (cast.finance, cast.decision_maker)


def test_repayment_claimed_while_project_runs(make_application, cast):
    application = make_application(to=Status.IN_PROGRESS)
    act(cast.officer, application, "await_report", "propose_repayment", amount="10000", reasons=REFUSAL_REASONS)
    act(cast.decision_maker, application, "claim_repayment", "claim_repayment")
    assert status_of(application) == Status.REPAYMENT_CLAIMED


def test_report_returned_for_supplement(make_application, cast):
    application = make_application(to=Status.REPORT_REVIEW)
    act(cast.officer, application, "review_report", "return_report", comment="Bifoga huvudboksutdrag")
    assert status_of(application) == Status.IN_PROGRESS
    response = as_user(cast.signatory).post(
        reverse("workflows:task_action", args=[application.pk, "await_report", "submit_report"]),
        {**demo.final_report(application), "summary": "Kompletterad med huvudboksutdrag"},
    )
    assert response.status_code == 302
    assert status_of(application) == Status.REPORT_REVIEW
