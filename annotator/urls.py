from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.decorators.http import require_POST
from django.views.i18n import set_language

urlpatterns = [
    path("", include("articles.urls")),
    # Not django.contrib.auth.urls' password reset: no mail is sent from here; admins set passwords.
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password_change/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/password_change/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    # Open before signing in, so that the login page can be switched; POST only, as it changes state.
    path("i18n/setlang/", login_not_required(require_POST(set_language)), name="set_language"),
    path("admin/", admin.site.urls),
]

handler500 = "articles.site.views.server_error"
