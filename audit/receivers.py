"""Session logins, logouts and failed logins (the admin, allauth) from Django's auth signals.

Every password check goes through ``django.contrib.auth.authenticate``, which
sends ``user_login_failed`` for the API's logins as well; the API's
successful logins and logouts issue tokens rather than sessions and are
recorded by :mod:`accounts.services`.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed

from audit.services import audit_record


def _logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    audit_record(action="auth.login", obj=user, actor=user, changes={"method": "session"})


def _logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None and user.is_authenticated:
        audit_record(action="auth.logout", obj=user, actor=user, changes={"method": "session"})


def _login_failed(sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any) -> None:
    model = get_user_model()
    claimed = str(credentials.get(model.USERNAME_FIELD) or credentials.get("username") or "")[:254]
    user = model._default_manager.filter(**{f"{model.USERNAME_FIELD}__iexact": claimed}).first() if claimed else None
    audit_record(
        action="auth.login_failed",
        actor=None,
        object_type=model._meta.label_lower,
        object_id=user.pk if user is not None else "",
        object_repr=claimed,
        changes={"email": claimed, "known_user": user is not None},
    )


def connect() -> None:
    user_logged_in.connect(_logged_in, dispatch_uid="audit:user_logged_in")
    user_logged_out.connect(_logged_out, dispatch_uid="audit:user_logged_out")
    user_login_failed.connect(_login_failed, dispatch_uid="audit:user_login_failed")
