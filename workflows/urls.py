from django.urls import path

from . import queue_views, views

app_name = "workflows"

urlpatterns = [
    path("handlaggning/", queue_views.queue, name="queue"),
    path("handlaggning/tilldela/", queue_views.queue_assign, name="queue_assign"),
    path("arenden/", views.case_list, name="case_list"),
    path("arenden/<uuid:application_id>/", views.case_detail, name="case_detail"),
    path("arenden/<uuid:application_id>/jav/", views.declare_conflict, name="declare_conflict"),
    path(
        "arenden/<uuid:application_id>/jav/<uuid:declaration_id>/beslut/", views.rule_conflict, name="rule_conflict"
    ),
    path("arenden/<uuid:application_id>/uppgift/<slug:node>/ta/", views.task_claim, name="task_claim"),
    path("arenden/<uuid:application_id>/uppgift/<slug:node>/<slug:action>/", views.task_action, name="task_action"),
    path("ansokningar/<uuid:application_id>/", views.application_detail, name="application_detail"),
    path("ansokningar/<uuid:application_id>/skicka-in/", views.submit, name="submit"),
    path("ansokningar/<uuid:application_id>/aterkalla/", views.withdraw, name="withdraw"),
]

# Behörigheter att pröva (issue 6): the registrar's confirmation of signing mandates.
from . import mandate_views  # noqa: E402 - kept with its paths

urlpatterns += [
    path("handlaggning/behorigheter/", mandate_views.mandate_queue, name="mandate_queue"),
    path("handlaggning/behorigheter/<uuid:membership_key>/", mandate_views.mandate_decide, name="mandate_decide"),
    path(
        "handlaggning/behorigheter/begaran/<uuid:join_request_id>/",
        mandate_views.join_mandate_decide,
        name="join_mandate_decide",
    ),
]

# The diarium (issue 7): registering an item on a case by hand.
from . import diarium_views  # noqa: E402 - kept with its paths

urlpatterns += [
    path("arenden/<uuid:application_id>/diarium/ny/", diarium_views.diarium_register, name="diarium_register"),
]

# The ranking of a call with the allocation simulator, and batch decisions (issue 7).
from . import ranking_views  # noqa: E402 - kept with its paths

urlpatterns += [
    path("handlaggning/rangordning/", ranking_views.ranking_index, name="ranking_index"),
    path("handlaggning/rangordning/<uuid:call_id>/", ranking_views.ranking, name="ranking"),
    path("handlaggning/rangordning/<uuid:call_id>/besluta/", ranking_views.ranking_decide, name="ranking_decide"),
]

# Betalningar (issue 7): the payment file, the bank's statement and the SIE vouchers, for finance.
from . import payment_views  # noqa: E402 - kept with its paths

urlpatterns += [
    path("ekonomi/betalningar/", payment_views.payments, name="payments"),
    path("ekonomi/betalningar/betalfil/", payment_views.payment_file, name="payment_file"),
    path("ekonomi/betalningar/kontoutdrag/", payment_views.statement_upload, name="statement_upload"),
    path("ekonomi/betalningar/verifikationer/", payment_views.voucher_file, name="voucher_file"),
]

# Appeals of a decision (issue 7; FL 44–45 §§, HFD 2016 ref. 49).
from . import appeal_views  # noqa: E402 - kept with its paths

urlpatterns += [
    path("arenden/<uuid:application_id>/overklagande/ny/", appeal_views.appeal_register, name="appeal_register"),
    path("arenden/<uuid:application_id>/overklagande/<uuid:appeal_id>/overlamna/", appeal_views.appeal_forward,
         name="appeal_forward"),
    path("arenden/<uuid:application_id>/overklagande/<uuid:appeal_id>/avvisa/", appeal_views.appeal_dismiss,
         name="appeal_dismiss"),
    path("arenden/<uuid:application_id>/overklagande/<uuid:appeal_id>/oversandelse.pdf", appeal_views.appeal_letter,
         name="appeal_letter"),
]

# The clocks of förvaltningslagen (issue 7): delay notice (FL 11 §), demand for a decision (FL 12 §).
from . import clock_views  # noqa: E402 - kept with its paths

urlpatterns += [
    path("ansokningar/<uuid:application_id>/begar-avgorande/", clock_views.decision_demand, name="decision_demand"),
    path("arenden/<uuid:application_id>/begaran-om-avgorande/avsla/", clock_views.demand_refuse,
         name="demand_refuse"),
    path("arenden/<uuid:application_id>/forsening/", clock_views.delay_notice, name="delay_notice"),
    path("arenden/<uuid:application_id>/beslut/rattelse/", clock_views.decision_correct, name="decision_correct"),
]

# The auditor's pages (issue 9): the case journal with its hashes checked, and who read a case.
from . import journal_views  # noqa: E402 - kept with its paths

urlpatterns += [
    path("arenden/lasningar/", journal_views.all_reads, name="all_reads"),
    path("arenden/<uuid:application_id>/journal/", journal_views.case_journal, name="case_journal"),
    path("arenden/<uuid:application_id>/lasningar/", journal_views.case_reads_list, name="case_reads"),
]

# The decision log with its exports (issue 9): the auditor's landing page, for staff readers.
from . import decision_log_views  # noqa: E402 - kept with its paths

urlpatterns += [
    path("beslutslogg/", decision_log_views.decision_log, name="decision_log"),
    path("beslutslogg/export/<slug:file_format>/", decision_log_views.decision_log_export, name="decision_log_export"),
    path("beslutslogg/exporter/", decision_log_views.export_list, name="export_list"),
    path("utbetalningar/export/<slug:file_format>/", decision_log_views.disbursement_export,
         name="disbursement_export"),
    # A large XLSX export, built by the worker: its progress page and the finished file.
    path("exporter/<uuid:job_id>/", decision_log_views.export_job, name="export_job"),
    path("exporter/<uuid:job_id>/fil/", decision_log_views.export_job_download, name="export_job_download"),
]

# Reconsideration of a decision (issue 7; FL 37–39 §§).
from . import reconsideration_views  # noqa: E402 - kept with its paths

urlpatterns += [
    path("arenden/<uuid:application_id>/omprovning/", reconsideration_views.propose_reconsideration,
         name="propose_reconsideration"),
    path("arenden/<uuid:application_id>/omprovning/begaran/", reconsideration_views.register_reconsideration_letter,
         name="register_reconsideration_letter"),
    path("arenden/<uuid:application_id>/omprovning/star-fast/", reconsideration_views.keep_decision,
         name="keep_decision"),
    path("ansokningar/<uuid:application_id>/omprovning/", reconsideration_views.request_reconsideration,
         name="request_reconsideration"),
    path("ansokningar/<uuid:application_id>/omprovning/yttrande/", reconsideration_views.reconsideration_comments,
         name="reconsideration_comments"),
]

# Lämna ut handlingar (issue 9; TF 2 kap., OSL): a case's documents produced after a secrecy review.
from . import production_views  # noqa: E402 - kept with its paths

urlpatterns += [
    path("arenden/<uuid:application_id>/utlamnande/", production_views.production, name="production"),
    path("arenden/<uuid:application_id>/utlamnande/<uuid:production_id>/", production_views.production_detail,
         name="production_detail"),
    path("arenden/<uuid:application_id>/utlamnande/<uuid:production_id>/zip/", production_views.production_download,
         name="production_download"),
]
