from django.urls import path

from . import views

app_name = "diarium"

urlpatterns = [
    path("diariet/", views.public_diarium, name="public"),
]
