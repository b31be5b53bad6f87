from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    # The security admin's pages: roles and lockouts.
    path("users/", views.user_list, name="user_list"),
    path("users/<int:pk>/role/", views.user_role, name="user_role"),
    path("lockouts/", views.lockout_list, name="lockout_list"),
    path("lockouts/unlock/", views.unlock, name="unlock"),
]
