from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import TemplateView

from bidrag.public import home
from konton.views import LoginView
from workflows import notice_views

urlpatterns = [
    path("", home, name="home"),
    path("logga-in/", LoginView.as_view(), name="login"),
    path("", include("konton.urls")),
    path("logga-ut/", auth_views.LogoutView.as_view(), name="logout"),
    # The language switch also sets the language of a logged-in person's messages.
    path("i18n/setlang/", notice_views.language_set, name="set_language"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("tillganglighet/", TemplateView.as_view(template_name="accessibility.html"), name="accessibility"),
    path("admin/", admin.site.urls),
    path("", include("bidrag.public_urls")),
    path("", include("arenden.urls")),
    path("", include("bidrag.urls")),
    path("", include("workflows.urls")),
    path("", include("workflows.statistics_urls")),
    path("", include("workflows.notice_urls")),
]
