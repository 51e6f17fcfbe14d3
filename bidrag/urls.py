from django.urls import path

from . import applicant_list, submitted_views, views

app_name = "bidrag"

urlpatterns = [
    path("ansokningar/", applicant_list.application_list, name="application_list"),
    path("ansokningar/ny/", views.application_create, name="application_create"),
    path("ansokningar/<uuid:application_id>/redigera/", views.application_edit, name="application_edit"),
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
]
