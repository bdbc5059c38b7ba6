"""Users (e-mail login, UUID keys) and API keys."""

from __future__ import annotations

import uuid
from functools import cached_property
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, Permission, PermissionsMixin
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from accounts.roles import PERMISSIONS


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def get_by_natural_key(self, username: str | None) -> User:
        # E-mail addresses are unique case-insensitively; log in the same way.
        return self.get(email__iexact=username)

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        if not email:
            raise ValueError("An e-mail address is required")
        user = self.model(email=self.normalize_email(email), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField(max_length=254, unique=True)
    first_name = models.CharField(max_length=150, blank=True)
    last_name = models.CharField(max_length=150, blank=True)
    company = models.CharField(max_length=200, blank=True)
    is_staff = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    is_guest = models.BooleanField(default=False)
    guest_expires_at = models.DateTimeField(null=True, blank=True)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        constraints = [models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique")]
        indexes = [models.Index(fields=["is_guest", "guest_expires_at"], name="accounts_guest_expiry")]
        permissions = [(codename, label) for codename, label in PERMISSIONS.items()]

    def __str__(self) -> str:
        return self.email

    @property
    def guest_expired(self) -> bool:
        return self.is_guest and self.guest_expires_at is not None and self.guest_expires_at <= timezone.now()

    @property
    def roles(self) -> list[str]:
        return sorted(group.name for group in self.groups.all())

    @cached_property
    def api_permissions(self) -> frozenset[str]:
        """The user's ``resource:action`` permissions through their roles (or granted to them directly).

        One query, read once per user object (per request), as Django's own permission cache is:
        ``get_all_permissions`` takes two (the user's, then their groups').
        """
        if not self.is_active:
            return frozenset()
        if self.is_superuser:
            return frozenset(PERMISSIONS)
        # Only the API's own (``resource:action``): the console role's admin permissions on the
        # accounts models (``view_user``…) live beside them and are no API scope.
        granted = Permission.objects.filter(content_type__app_label="accounts", codename__in=PERMISSIONS).filter(
            Q(user=self) | Q(group__user=self)
        )
        return frozenset(granted.values_list("codename", flat=True).distinct())

    def get_full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class ApiKeyQuerySet(models.QuerySet["ApiKey"]):
    def active(self) -> ApiKeyQuerySet:
        now = timezone.now()
        return self.filter(revoked_at__isnull=True).filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now)
        )


class ApiKey(models.Model):
    """A long-lived credential for tools: shown once, stored as a SHA-256 digest.

    The key is ``fbk_<prefix>_<secret>``; ``prefix`` finds the row, the digest
    of the whole key is compared in constant time. Keys are high-entropy random
    strings, so a fast digest is the right choice (a password hash would cost a
    slow KDF on every request for no gain).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    key_hash = models.CharField(max_length=64)
    scopes = models.JSONField(default=list)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} (fbk_{self.prefix}_…)"

    @property
    def is_usable(self) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > timezone.now())
