from django.urls import path

from crm.security import views

app_name = "security"

urlpatterns = [
    path("", views.account_view, name="account"),
    path("password/", views.PasswordChangeView.as_view(), name="password-change"),
    path("tokens/<int:pk>/revoke/", views.token_revoke_view, name="token-revoke"),
    path("sign-out-everywhere/", views.sign_out_everywhere_view, name="sign-out-everywhere"),
    path("two-factor/setup/", views.two_factor_setup_view, name="two-factor-setup"),
    path("two-factor/verify/", views.two_factor_verify_view, name="two-factor-verify"),
    path(
        "two-factor/recovery-codes/",
        views.recovery_codes_renew_view,
        name="recovery-codes-renew",
    ),
    path("role-changes/", views.role_change_list_view, name="role-changes"),
    path(
        "role-changes/<int:pk>/confirm/",
        views.role_change_decide_view,
        {"decision": "confirm"},
        name="role-change-confirm",
    ),
    path(
        "role-changes/<int:pk>/reject/",
        views.role_change_decide_view,
        {"decision": "reject"},
        name="role-change-reject",
    ),
]
