from django.urls import path

from accounts import account_views, views

app_name = "accounts"

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    # The security admin's pages: roles and lockouts.
    path("users/", views.user_list, name="user_list"),
    path("users/<int:pk>/role/", views.user_role, name="user_role"),
    path("lockouts/", views.lockout_list, name="lockout_list"),
    path("lockouts/unlock/", views.unlock, name="unlock"),
    # One account's password, active flag and tokens (accounts/account_views.py).
    path("users/<int:pk>/account/", account_views.account, name="account"),
    path("users/<int:pk>/password/", account_views.account_password, name="account_password"),
    path("users/<int:pk>/active/", account_views.account_active, name="account_active"),
    path("users/<int:pk>/tokens/revoke/", account_views.account_tokens_revoke, name="account_tokens_revoke"),
]
