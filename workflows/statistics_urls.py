"""The statistics page (issue 9), for Brå staff and auditors."""

from django.urls import path

from . import statistics_views

app_name = "statistics"

urlpatterns = [
    path("statistik/", statistics_views.statistics, name="page"),
]
