from django.urls import path

from crm.users import views

app_name = "users"

urlpatterns = [
    path("", views.user_list_view, name="list"),
    path("new/", views.user_create_view, name="create"),
    path("<int:pk>/", views.user_detail_view, name="detail"),
    path("<int:pk>/edit/", views.user_edit_view, name="edit"),
    path("<int:pk>/deactivate/", views.user_deactivate_view, name="deactivate"),
    path("<int:pk>/reactivate/", views.user_reactivate_view, name="reactivate"),
    path("<int:pk>/password-reset/", views.user_password_reset_view, name="password-reset"),
    # Public: the one-time link e-mailed by "password-reset" (uid and token only).
    path("set-password/<uidb64>/<token>/", views.SetPasswordView.as_view(), name="set-password"),
]
