"""Account writes: registration, tokens, guests, API keys (HackSoft-style services).

Each function is keyword-only, runs in a transaction where it writes, and
raises :mod:`flowbuilder.api.errors` exceptions that the API renders.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import jwt
from allauth.account.adapter import get_adapter as get_account_adapter
from allauth.account.models import EmailAddress
from allauth.core import context as allauth_context
from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.models import Group, Permission
from django.contrib.auth.password_validation import validate_password
from django.core.cache import cache
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken
from rest_framework_simplejwt.utils import get_md5_hash_password

from accounts.errors import GuestsUnavailable
from accounts.models import ApiKey, User
from accounts.roles import CONSOLE_PERMISSIONS, CONSOLE_ROLE, DEFAULT_ROLE, GUEST, PERMISSIONS
from accounts.signals import access_changed
from audit.services import audit_record
from flowbuilder.api.errors import Forbidden, Unauthorized, ValidationFailed
from flowbuilder.api.throttling import count_request

logger = logging.getLogger(__name__)

API_KEY_PREFIX = "fbk_"


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str | None
    expires_in: int
    user: User
    token_type: str = "bearer"  # noqa: S105 (an OAuth2 token type, not a secret)


# --- users ----------------------------------------------------------------------


def _password_problems(password: str, user: User, field: str = "password") -> list[dict[str, Any]]:
    try:
        validate_password(password, user)
    except DjangoValidationError as exc:
        return [{"field": field, "message": message} for message in exc.messages]
    return []


@transaction.atomic
def user_register(
    *,
    email: str,
    password: str,
    first_name: str = "",
    last_name: str = "",
    company: str = "",
    request: HttpRequest | None = None,
) -> User:
    """Create a user with the default role and send the e-mail verification.

    Raises ValidationFailed for a weak password; nothing is stored then. An
    e-mail already registered is answered like a new one (an unsaved user, the
    same work done), and its owner gets an e-mail saying someone tried: the
    answer must not tell who has an account here (allauth's enumeration
    prevention). Callers tell the two apart by ``user._state.adding``.
    """
    email = User.objects.normalize_email(email.strip())
    user = User(email=email, first_name=first_name, last_name=last_name, company=company)
    problems = _password_problems(password, user)
    if problems:
        raise ValidationFailed("The password is too weak", details=problems)
    user.set_password(password)
    if User.objects.filter(email__iexact=email).exists():
        return _already_registered(user, request)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:  # a concurrent registration won the race (the failed save left it unsaved)
        return _already_registered(user, request)
    user.groups.add(Group.objects.get(name=DEFAULT_ROLE))
    address = EmailAddress.objects.create(user=user, email=email, primary=True, verified=False)
    # robust: a mail server hiccup must not turn a created account into a 500.
    transaction.on_commit(lambda: address.send_confirmation(request, signup=True), robust=True)
    return user


def _already_registered(decoy: User, request: HttpRequest | None) -> User:
    """Tell the address's owner (after commit; a mail hiccup is logged, not raised) and answer ``decoy``."""
    address = User.objects.filter(email__iexact=decoy.email).values_list("email", flat=True).first() or decoy.email

    def notify() -> None:
        with allauth_context.request_context(request):
            get_account_adapter(request).send_account_already_exists_mail(address)

    transaction.on_commit(notify, robust=True)
    decoy.date_joined = timezone.now()
    return decoy


def user_authenticate(*, request: HttpRequest, email: str, password: str) -> User:
    """Check e-mail and password through django-axes (which counts failures).

    Raises Unauthorized on bad credentials; axes raises its lock-out
    exception (rendered as 429) once an (e-mail, IP) pair is locked. Audited:
    ``auth.login`` here, ``auth.login_failed`` by the audit app's receiver of
    Django's ``user_login_failed`` (which ``authenticate`` sends).
    """
    user = authenticate(request, email=email, password=password)
    if user is None or user.is_guest:
        raise Unauthorized("Invalid e-mail or password")
    # A queryset update: the login itself is the audit event, not a change of the user.
    user.last_login = timezone.now()
    User.objects.filter(pk=user.pk).update(last_login=user.last_login)
    audit_record(action="auth.login", obj=user, actor=user, changes={"method": "password"})
    return user


@transaction.atomic
def user_change_password(*, user: User, current_password: str, new_password: str) -> None:
    """Change the password; every token issued before stops working."""
    if not user.check_password(current_password):
        raise ValidationFailed("The current password is wrong", field="current_password")
    problems = _password_problems(new_password, user, field="new_password")
    if problems:
        raise ValidationFailed("The new password is too weak", details=problems)
    user.set_password(new_password)
    user.save(update_fields=["password"])
    tokens_revoke_all(user=user)
    access_changed.send(sender=User, user_id=user.pk)


@transaction.atomic
def tokens_revoke_all(*, user: User) -> int:
    """Blacklist every outstanding refresh token of ``user``; audited as ``auth.tokens_revoked``."""
    outstanding = OutstandingToken.objects.filter(user=user, blacklistedtoken__isnull=True)
    created = BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token=token) for token in outstanding], ignore_conflicts=True
    )
    if created:
        audit_record(action="auth.tokens_revoked", obj=user, changes={"revoked": len(created)})
    return len(created)


# --- tokens -------------------------------------------------------------------------


SESSION_CLAIM = "sid"


def _revoked_session_key(session_id: str) -> str:
    return f"jwt:logged-out:{session_id}"


def session_logged_out(session_id: str | None) -> bool:
    """Whether the session (a login, kept through refreshes) was logged out; fails open if the cache is down.

    Access tokens carry their session's id; a logout marks it for as long as an access token
    lives, so tokens of that session stop working at once, on the API and on open sockets.
    """
    if not session_id:
        return False
    try:
        return bool(cache.get(_revoked_session_key(session_id)))
    except Exception:  # the cache is down: access tokens still expire within their lifetime
        logger.warning("Could not check whether session %s was logged out", session_id, exc_info=True)
        return False


def token_pair_issue(*, user: User, session_id: str | None = None) -> TokenPair:
    """A new access + refresh pair of a session (new, or ``session_id`` on a refresh); the refresh
    token is recorded for blacklisting."""
    refresh = RefreshToken.for_user(user)
    refresh[SESSION_CLAIM] = session_id or uuid.uuid4().hex  # copied into the access token
    lifetime = settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"]
    return TokenPair(
        access_token=str(refresh.access_token),
        refresh_token=str(refresh),
        expires_in=int(lifetime.total_seconds()),
        user=user,
    )


def _refresh_token_parse(raw: str) -> RefreshToken:
    try:
        return RefreshToken(raw)
    except TokenError as exc:
        raise Unauthorized(f"Invalid refresh token: {exc}") from None


def token_refresh(*, refresh_token: str) -> TokenPair:
    """Exchange a refresh token for a new pair and blacklist the old one (rotation).

    Refuses blacklisted, expired or forged tokens, tokens of users who are gone,
    inactive or whose password changed since, and a second use of the same
    token even by two concurrent requests.
    """
    refresh = _refresh_token_parse(refresh_token)
    claim = settings.SIMPLE_JWT["REVOKE_TOKEN_CLAIM"]
    user = User.objects.filter(pk=refresh.get("user_id")).first()
    if user is None or not user.is_active or user.guest_expired:
        raise Unauthorized("Invalid refresh token: the account is not active")
    if refresh.get(claim) != get_md5_hash_password(user.password):
        raise Unauthorized("Invalid refresh token: the password has changed")
    with transaction.atomic():
        outstanding = OutstandingToken.objects.select_for_update().filter(jti=refresh["jti"]).first()
        if outstanding is None:
            raise Unauthorized("Invalid refresh token: unknown token")
        _, created = BlacklistedToken.objects.get_or_create(token=outstanding)
        if not created:
            raise Unauthorized("Invalid refresh token: token is blacklisted")
        audit_record(action="auth.token_refreshed", obj=user, actor=user)
    return token_pair_issue(user=user, session_id=refresh.get(SESSION_CLAIM))


def token_logout(*, refresh_token: str, user: User | None = None) -> None:
    """Blacklist a refresh token (idempotent for its owner); audited as ``auth.logout``."""
    refresh = _refresh_token_parse(refresh_token)
    if user is not None and str(refresh.get("user_id")) != str(user.pk):
        raise Unauthorized("Invalid refresh token: it belongs to another user")
    with transaction.atomic():
        refresh.blacklist()
        owner = user or User.objects.filter(pk=refresh.get("user_id")).first()
        if owner is not None:
            audit_record(action="auth.logout", obj=owner, actor=owner, changes={"method": "token"})
            access_changed.send(sender=User, user_id=owner.pk)
        session_id = refresh.get(SESSION_CLAIM)
        if session_id:
            lifetime = int(settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"].total_seconds())
            # Before the commit's listeners run: a socket checking again must see the session ended.
            cache.set(_revoked_session_key(session_id), True, timeout=lifetime + 60)


# --- guests -------------------------------------------------------------------------


@transaction.atomic
def guest_session_create() -> TokenPair:
    """A throw-away user in the restricted ``guest`` role and a token for its lifetime.

    Per client address the ``auth`` rate applies (the view's); across all clients at most
    ``GUEST_SESSIONS_RATE`` are made (raises GuestsUnavailable past it, or when
    ``GUEST_SESSIONS_ENABLED`` is off).
    """
    if not settings.GUEST_SESSIONS_ENABLED:
        raise GuestsUnavailable("Guest sessions are turned off on this server; register instead")
    if settings.RATE_LIMIT_ENABLED:
        counted = count_request("rl:guest:all", settings.GUEST_SESSIONS_RATE)
        if not counted.allowed:
            raise GuestsUnavailable(
                f"Too many guest sessions are being made; retry in {counted.retry_after} seconds",
                retry_after=counted.retry_after,
            )
    ttl = settings.GUEST_SESSION_TTL
    user = User.objects.create_user(
        email=f"guest-{uuid.uuid4().hex}@guest.invalid",
        password=None,
        is_guest=True,
        guest_expires_at=timezone.now() + ttl,
    )
    user.groups.add(Group.objects.get(name=GUEST))
    audit_record(action="auth.guest_session_created", obj=user, actor=user)
    access = AccessToken.for_user(user)
    access.set_exp(lifetime=ttl)
    return TokenPair(access_token=str(access), refresh_token=None, expires_in=int(ttl.total_seconds()), user=user)


def guests_cleanup(*, now: datetime | None = None, dry_run: bool = False) -> int:
    """Delete guests whose session expired (their workflows and runs go with them)."""
    expired = User.objects.filter(is_guest=True, guest_expires_at__lte=now or timezone.now())
    if dry_run:
        return expired.count()
    count = 0
    for user in expired.iterator():
        with transaction.atomic():
            user.delete()
        count += 1
    return count


# --- cross-system tokens --------------------------------------------------------


def cross_system_token_create(
    *, user: User, granted: frozenset[str], target_system: str, permissions: list[str]
) -> dict[str, Any]:
    """A short-lived token for another system with scopes the caller holds.

    Signed with ``CROSS_SYSTEM_SIGNING_KEY`` and addressed (``aud``) to the
    target, so this API itself refuses it.
    """
    unknown = [(i, p) for i, p in enumerate(permissions) if p not in PERMISSIONS]
    if unknown:
        raise ValidationFailed(
            "Unknown permissions",
            details=[{"field": f"permissions[{i}]", "message": f"Unknown permission '{p}'"} for i, p in unknown],
        )
    not_held = [(i, p) for i, p in enumerate(permissions) if p not in granted]
    if not_held:
        raise Forbidden(
            "A cross-system token can only carry permissions you hold",
            details=[{"field": f"permissions[{i}]", "message": f"You do not hold '{p}'"} for i, p in not_held],
        )
    now = timezone.now()
    ttl = settings.CROSS_SYSTEM_TOKEN_TTL
    payload = {
        "iss": "flowbuilder",
        "sub": str(user.pk),
        "aud": target_system,
        "scopes": sorted(set(permissions)),
        "iat": int(now.timestamp()),
        "exp": int((now + ttl).timestamp()),
        "jti": uuid.uuid4().hex,
        "token_type": "cross_system",
    }
    token = jwt.encode(payload, settings.CROSS_SYSTEM_SIGNING_KEY, algorithm="HS256")
    audit_record(
        action="auth.cross_system_token_created",
        obj=user,
        actor=user,
        changes={"target_system": target_system, "permissions": payload["scopes"], "jti": payload["jti"]},
    )
    return {
        "token": token,
        "token_type": "bearer",
        "expires_in": int(ttl.total_seconds()),
        "expires_at": datetime.fromtimestamp(payload["exp"], tz=UTC),
        "target_system": target_system,
        "permissions": payload["scopes"],
    }


# --- API keys ---------------------------------------------------------------------


def _api_key_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@transaction.atomic
def api_key_create(
    *,
    user: User,
    granted: frozenset[str],
    name: str,
    scopes: list[str] | None = None,
    expires_at: datetime | None = None,
    parent: ApiKey | None = None,
) -> tuple[ApiKey, str]:
    """Create a key and return it with its raw value, which is never stored or shown again.

    ``granted`` is what the request may do (with a key: its scopes). Made with ``parent`` (a key
    minting a key), the new key also expires no later than its parent: it defaults to the parent's
    expiry, and a later one is refused.
    """
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationFailed("The expiry must be in the future", field="expires_at")
    if parent is not None and parent.expires_at is not None:
        if expires_at is None:
            expires_at = parent.expires_at
        elif expires_at > parent.expires_at:
            raise Forbidden(
                "A key made with an API key cannot outlive it",
                details=[{"field": "expires_at", "message": f"At most {parent.expires_at.isoformat()}"}],
            )
    scopes = sorted(set(scopes)) if scopes else sorted(granted)
    unknown = [s for s in scopes if s not in PERMISSIONS]
    if unknown:
        raise ValidationFailed(
            "Unknown scopes", details=[{"field": "scopes", "message": f"Unknown scope '{s}'"} for s in unknown]
        )
    not_held = [s for s in scopes if s not in granted]
    if not_held:
        raise Forbidden(
            "An API key can only carry permissions you hold",
            details=[{"field": "scopes", "message": f"You do not hold '{s}'"} for s in not_held],
        )
    prefix = secrets.token_hex(6)
    raw = f"{API_KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey.objects.create(
        user=user, name=name, prefix=prefix, key_hash=_api_key_digest(raw), scopes=scopes, expires_at=expires_at
    )
    return key, raw


def api_key_authenticate(*, raw: str) -> ApiKey:
    """Find the usable key for ``raw`` and record its use (at most once a minute).

    Raises Unauthorized for malformed, unknown, revoked or expired keys.
    """
    if not raw.startswith(API_KEY_PREFIX) or raw.count("_") < 2:
        raise Unauthorized("Invalid API key")
    prefix = raw[len(API_KEY_PREFIX) :].split("_", 1)[0]
    key = ApiKey.objects.select_related("user").filter(prefix=prefix).first()
    if key is None or not hmac.compare_digest(key.key_hash, _api_key_digest(raw)):
        raise Unauthorized("Invalid API key")
    if not key.is_usable:
        raise Unauthorized("This API key is revoked or expired")
    if not key.user.is_active:
        raise Unauthorized("The account of this API key is not active")
    now = timezone.now()
    stale_before = now - settings.API_KEY_LAST_USED_RESOLUTION
    if key.last_used_at is None or key.last_used_at < stale_before:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
    return key


@transaction.atomic
def api_key_revoke(*, api_key: ApiKey) -> None:
    """Revoke a key (idempotent); audited as ``api_key.revoked`` in the same transaction."""
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
        access_changed.send(sender=ApiKey, user_id=api_key.user_id)


def console_role_sync(*, using: str = "default", **kwargs: Any) -> None:
    """The ``console`` group with those of ``CONSOLE_PERMISSIONS`` that exist so far (run after migrations)."""
    group, _ = Group.objects.using(using).get_or_create(name=CONSOLE_ROLE)
    wanted = {tuple(name.split(".", 1)) for name in CONSOLE_PERMISSIONS}
    found = Permission.objects.using(using).filter(codename__in={codename for _, codename in wanted})
    group.permissions.add(
        *[p for p in found.select_related("content_type") if (p.content_type.app_label, p.codename) in wanted]
    )


def console_access_set(*, user: User, granted: bool = True) -> None:
    """Give ``user`` the staff console (staff flag and the ``console`` group), or take it away."""
    with transaction.atomic():
        group = Group.objects.get(name=CONSOLE_ROLE)
        if granted:
            user.groups.add(group)
        else:
            user.groups.remove(group)
        if user.is_staff != granted and not user.is_superuser:
            user.is_staff = granted
            user.save(update_fields=["is_staff"])
