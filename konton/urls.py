from django.urls import path

from . import views

app_name = "konton"

urlpatterns = [
    path("logga-in/e-legitimation/", views.eid_start, name="eid_start"),
    path("logga-in/e-legitimation/retur/", views.eid_callback, name="eid_callback"),
    path("tvastegsverifiering/", views.otp_verify, name="otp_verify"),
    path("tvastegsverifiering/ny/", views.otp_setup, name="otp_setup"),
    path("tvastegsverifiering/reservkod/", views.otp_backup, name="otp_backup"),
    path("tvastegsverifiering/reservkoder/", views.backup_codes, name="backup_codes"),
]
