"""Public pages (no login). The start page itself is `home` in config/urls.py."""

from django.urls import path

from . import open_data, public

app_name = "public"

urlpatterns = [
    path("utlysningar/<uuid:call_id>/", public.call_detail, name="call_detail"),
    # Open data (issue 9): the granted projects as a page, CSV and JSON.
    path("oppna-data/", open_data.open_data, name="open_data"),
    path("oppna-data/beviljade-projekt.csv", open_data.open_data_csv, name="open_data_csv"),
    path("oppna-data/beviljade-projekt.json", open_data.open_data_json, name="open_data_json"),
]
