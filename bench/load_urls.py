"""Flowbuilder's URLs plus ``/bench/plain/``: a plain Django view, the baseline of ``python -m bench load``.

It reads the same 20 workflows ``GET /api/v1/workflows`` lists (one query) and answers a
``JsonResponse``, through the same server, middleware and pool: what Django itself costs.
"""

from django.http import HttpRequest, JsonResponse
from django.urls import path

from flowbuilder.urls import urlpatterns as flowbuilder_urlpatterns
from workflows.models import Workflow


def plain(request: HttpRequest) -> JsonResponse:
    rows = list(Workflow.objects.order_by("-updated_at").values("id", "name", "updated_at")[:20])
    return JsonResponse({"results": rows})


urlpatterns = [path("bench/plain/", plain), *flowbuilder_urlpatterns]
