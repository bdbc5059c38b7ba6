"""E-mail through an ``smtp`` credential (SSRF-guarded) or the server's mail settings.

A user's SMTP host is as untrusted as a URL: :class:`GuardedEmailBackend`
connects through :func:`integrations.net.connect_socket` (resolve once, check,
connect to the checked address) while STARTTLS and implicit TLS still verify
the certificate against the host name. The server's own ``EMAIL_URL`` is the
operator's and is used as configured.
"""

from __future__ import annotations

import smtplib
import socket
from collections.abc import Mapping
from typing import Any

from django.core.mail import get_connection
from django.core.mail.backends.smtp import EmailBackend

from integrations.net import connect_socket


class GuardedSMTP(smtplib.SMTP):
    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        return connect_socket(host, port, timeout)


class GuardedSMTPSSL(smtplib.SMTP_SSL):
    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        sock = connect_socket(host, port, timeout)
        return self.context.wrap_socket(sock, server_hostname=self._host)


class GuardedEmailBackend(EmailBackend):
    """Django's SMTP backend, connecting only where the SSRF guard allows."""

    @property
    def connection_class(self) -> type[smtplib.SMTP]:
        return GuardedSMTPSSL if self.use_ssl else GuardedSMTP


def starttls(data: Mapping[str, Any]) -> bool:
    """STARTTLS unless implicit TLS is used or it was switched off explicitly (``use_tls: false``)."""
    return not data.get("use_ssl") and data.get("use_tls", True) is not False


def connection_for(data: Mapping[str, Any] | None, *, timeout: float = 30) -> Any:
    """A mail connection: through the ``smtp`` credential ``data``, else the server's settings."""
    if not data:
        return get_connection(fail_silently=False)
    use_ssl = bool(data.get("use_ssl"))
    return GuardedEmailBackend(
        host=data["host"],
        port=int(data["port"]),
        username=data.get("username") or "",
        password=data.get("password") or "",
        use_tls=starttls(data),
        use_ssl=use_ssl,
        timeout=timeout,
        fail_silently=False,
    )


def smtp_login_check(data: Mapping[str, Any], *, timeout: float = 15) -> str:
    """Connect, say EHLO, STARTTLS when asked, and log in when there is a username.

    Answers what was checked; raises smtplib/OSError/BlockedAddress errors.
    """
    backend = connection_for(data, timeout=timeout)
    backend.open()  # connect, EHLO, STARTTLS, AUTH: what sending will do
    try:
        code, _ = backend.connection.noop()
        if code != 250:
            raise smtplib.SMTPResponseException(code, b"NOOP refused")
    finally:
        backend.close()
    tls = "implicit TLS" if data.get("use_ssl") else "STARTTLS" if starttls(data) else "no TLS"
    who = f" and logged in as {data['username']}" if data.get("username") else " (no login configured)"
    return f"Connected to {data['host']}:{data['port']} ({tls}){who}"
