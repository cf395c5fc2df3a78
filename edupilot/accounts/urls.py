from django.contrib.auth import views as auth_views
from django.urls import path

from . import sso, views

app_name = "accounts"
urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("sso/login/", sso.SSOLoginView.as_view(), name="sso_login"),
    path("sso/callback/", sso.SSOCallbackView.as_view(), name="sso_callback"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", views.password_change, name="password_change"),
    path("membership/", views.switch_membership, name="switch_membership"),
    path("provision/", views.provision, name="provision"),
    path("users/<int:user_id>/reset/", views.reset_password, name="reset"),
    path("credentials/<uuid:sheet_id>/", views.credential_sheet, name="credentials"),
    path("credentials/<uuid:sheet_id>/xlsx", views.credential_sheet_xlsx, name="credentials_xlsx"),
    path(
        "credentials/<uuid:sheet_id>/destroy",
        views.credential_sheet_destroy,
        name="credentials_destroy",
    ),
    path("admin-requests/", views.admin_requests, name="admin_requests"),
    path("admin-requests/new/", views.admin_request_new, name="admin_request_new"),
    path("admin-requests/<int:pk>/", views.admin_request_detail, name="admin_request"),
]
