from __future__ import annotations

from django.urls import path
from rest_framework.routers import SimpleRouter

from accounts.api import views

router = SimpleRouter(trailing_slash=False)
router.register("api-keys", views.ApiKeyViewSet, basename="api-key")

urlpatterns = [
    path("auth/register", views.RegisterView.as_view(), name="auth-register"),
    path("auth/login", views.LoginView.as_view(), name="auth-login"),
    path("auth/token", views.OAuth2TokenView.as_view(), name="auth-token"),
    path("auth/refresh", views.RefreshView.as_view(), name="auth-refresh"),
    path("auth/logout", views.LogoutView.as_view(), name="auth-logout"),
    path("auth/me", views.MeView.as_view(), name="auth-me"),
    path("auth/password", views.PasswordChangeView.as_view(), name="auth-password"),
    path("auth/guest", views.GuestView.as_view(), name="auth-guest"),
    path("auth/cross-system-token", views.CrossSystemTokenView.as_view(), name="auth-cross-system-token"),
    path("users/<uuid:user_id>", views.UserDetailView.as_view(), name="user-detail"),
    *router.urls,
]
