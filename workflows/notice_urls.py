from django.urls import path

from . import digest_views, notice_views

app_name = "notices"

urlpatterns = [
    path("meddelanden/", notice_views.notice_list, name="list"),
    path("meddelanden/las-alla/", notice_views.notice_read_all, name="read_all"),
    path("meddelanden/<uuid:notice_id>/las/", notice_views.notice_read, name="read"),
    path("meddelanden/mallar/", notice_views.message_preview, name="preview"),
    path("meddelanden/installningar/", digest_views.digest_settings, name="digest_settings"),
]
