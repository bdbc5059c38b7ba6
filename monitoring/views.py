"""``/metrics`` in the Prometheus text format, for scrapers.

Answers a request carrying ``Authorization: Bearer <FLOWBUILDER_METRICS_TOKEN>``
(when that setting is set) or a staff member's session; anything else is
401 (403 for a signed-in non-staff user). The figures show what runs and
fails on the system, so they are not public.
"""

from __future__ import annotations

import hmac

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST

from monitoring.prometheus import render


def _authorised(request: HttpRequest) -> bool | None:
    """True to serve, False for a signed-in non-staff user (403), None for nobody (401)."""
    token = settings.FLOWBUILDER_METRICS_TOKEN
    header = request.headers.get("Authorization", "")
    if token and header.lower().startswith("bearer "):
        return hmac.compare_digest(header[7:].strip().encode(), token.encode()) or None
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return bool(user.is_active and user.is_staff)
    return None


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    allowed = _authorised(request)
    if allowed is None:
        response = HttpResponse("Authentication required\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    if not allowed:
        return HttpResponse("Staff only\n", status=403, content_type="text/plain")
    return HttpResponse(render(), content_type=CONTENT_TYPE_LATEST)
