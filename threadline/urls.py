from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from organisations import views as organisation_views
from organisations.forms import LoginForm

urlpatterns = [
    path("", organisation_views.home, name="home"),
    path(
        "login/",
        auth_views.LoginView.as_view(
            authentication_form=LoginForm, redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("o/<slug:org_slug>/", include("threadline.org_urls")),
    path("api/", include("api.urls")),
]

# Under /api/ a crash answers with the API's error body rather than an HTML page (unknown API
# addresses have their own catch-all in api/urls.py).
handler500 = "api.errors.server_error"
