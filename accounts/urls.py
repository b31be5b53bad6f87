from django.urls import path

from accounts import account_views, password_views, views
from accounts.two_factor import views as two_factor_views

app_name = "accounts"

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    # One's own account: the password (forced when must_change_password) and contact details.
    path("password/", password_views.password_change, name="password_change"),
    path("profile/", password_views.profile, name="profile"),
    # The security admin's pages: roles and lockouts.
    path("users/", views.user_list, name="user_list"),
    path("users/<int:pk>/role/", views.user_role, name="user_role"),
    path("lockouts/", views.lockout_list, name="lockout_list"),
    path("lockouts/unlock/", views.unlock, name="unlock"),
    # One account's password, login name, active flag and tokens (accounts/account_views.py).
    path("users/<int:pk>/account/", account_views.account, name="account"),
    path("users/<int:pk>/password/", account_views.account_password, name="account_password"),
    path("users/<int:pk>/username/", account_views.account_username, name="account_username"),
    path("users/<int:pk>/active/", account_views.account_active, name="account_active"),
    path("users/<int:pk>/tokens/revoke/", account_views.account_tokens_revoke, name="account_tokens_revoke"),
    # Two-factor sign-in (accounts/two_factor/): one's own, and the security admin's reset.
    path("two-factor/", two_factor_views.settings_page, name="two_factor"),
    path("two-factor/verify/", two_factor_views.verify, name="two_factor_verify"),
    path("two-factor/enrol/", two_factor_views.enrol, name="two_factor_enrol"),
    path("two-factor/recovery-codes/", two_factor_views.recovery_codes, name="two_factor_recovery_codes"),
    path("users/<int:pk>/two-factor/", two_factor_views.reset, name="two_factor_reset"),
]
