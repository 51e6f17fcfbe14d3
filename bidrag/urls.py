from django.urls import path

from . import applicant_list, draft_views, submitted_views, views

app_name = "bidrag"

urlpatterns = [
    path("ansokningar/", applicant_list.application_list, name="application_list"),
    path("ansokningar/ny/", views.application_create, name="application_create"),
    # The old single page: leads to the first step not yet done (other pages link to it).
    path("ansokningar/<uuid:application_id>/redigera/", draft_views.application_edit, name="application_edit"),
    path("ansokningar/<uuid:application_id>/steg/<slug:slug>/", draft_views.application_step, name="application_step"),
    path(
        "ansokningar/<uuid:application_id>/steg/<slug:slug>/spara/",
        draft_views.application_autosave,
        name="application_autosave",
    ),
    path(
        "ansokningar/<uuid:application_id>/organisation/",
        views.application_change_organisation,
        name="application_change_organisation",
    ),
    path(
        "ansokningar/<uuid:application_id>/be-om-underskrift/",
        views.application_request_signature,
        name="application_request_signature",
    ),
    path("ansokningar/<uuid:application_id>/budget/", views.budget_line_add, name="budget_line_add"),
    path(
        "ansokningar/<uuid:application_id>/budget/<uuid:line_id>/ta-bort/",
        views.budget_line_remove,
        name="budget_line_remove",
    ),
    path(
        "ansokningar/<uuid:application_id>/budget/<uuid:line_id>/andra/",
        views.budget_line_edit,
        name="budget_line_edit",
    ),
    path("ansokningar/<uuid:application_id>/bilagor/", views.attachment_upload, name="attachment_upload"),
    path(
        "ansokningar/<uuid:application_id>/bilagor/<uuid:attachment_id>/ta-bort/",
        views.attachment_remove,
        name="attachment_remove",
    ),
    path("ansokningar/<uuid:application_id>/radera/", views.application_delete_draft, name="application_delete_draft"),
    path("bilagor/<uuid:attachment_id>/", views.attachment_download, name="attachment_download"),
    path("ansokningar/<uuid:application_id>/inskickad/", submitted_views.submitted_version, name="submitted_version"),
    path("ansokningar/<uuid:application_id>/kvitto.pdf", submitted_views.receipt, name="receipt"),
    path("ansokningar/<uuid:application_id>/beslut/<uuid:decision_id>.pdf", submitted_views.decision_letter,
         name="decision_letter"),
]

# Mina organisationer (issue 6): organisations, invitations, members, signing mandates.
from . import organisations  # noqa: E402 - kept with its paths

urlpatterns += [
    path("organisationer/", organisations.organisation_list, name="organisation_list"),
    path("organisationer/ny/", organisations.organisation_add, name="organisation_add"),
    path("organisationer/<uuid:organisation_id>/", organisations.organisation_detail, name="organisation_detail"),
    path("organisationer/<uuid:organisation_id>/behorighet/", organisations.mandate_request, name="mandate_request"),
    path("organisationer/<uuid:organisation_id>/bjud-in/", organisations.invitation_send, name="invitation_send"),
    path("organisationer/<uuid:organisation_id>/konto/", organisations.payment_account_set, name="payment_account_set"),
    path(
        "organisationer/<uuid:organisation_id>/begaran/<uuid:request_id>/",
        organisations.join_request_decide,
        name="join_request_decide",
    ),
    path(
        "organisationer/<uuid:organisation_id>/medlemmar/<uuid:membership_key>/ta-bort/",
        organisations.membership_remove,
        name="membership_remove",
    ),
    path(
        "organisationer/<uuid:organisation_id>/inbjudningar/<uuid:invitation_id>/aterkalla/",
        organisations.invitation_revoke,
        name="invitation_revoke",
    ),
    path(
        "organisationer/begaran/<uuid:join_request_id>/behorighet/",
        organisations.join_mandate_request,
        name="join_mandate_request",
    ),
    path("behorighetsbevis/<uuid:attachment_id>/", organisations.mandate_document, name="mandate_document"),
    path("inbjudan/<str:token>/", organisations.invitation_accept, name="invitation_accept"),
]
