"""Public pages (no login). The start page itself is `home` in config/urls.py."""

from django.urls import path

from . import public

app_name = "public"

urlpatterns = [
    path("utlysningar/<uuid:call_id>/", public.call_detail, name="call_detail"),
]
