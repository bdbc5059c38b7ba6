"""Flowbuilder's Python client: ``Flowbuilder`` (sync) and ``AsyncFlowbuilder`` (asyncio), the same surface.

from flowbuilder_client import Flowbuilder
fb = Flowbuilder(base_url="http://localhost:8000", api_key="fbk_...")
run = fb.workflows.execute(workflow_id, input_data={"topic": "AI"})
done = fb.executions.wait(run.id)
"""

from . import models
from ._async._client import AsyncFlowbuilder
from ._errors import (
    APIConnectionError,
    APIError,
    AuthenticationError,
    ConflictError,
    FlowbuilderError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServiceUnavailableError,
    StreamError,
    ValidationError,
    WaitTimeoutError,
)
from ._events import ExecutionEvent
from ._sync._client import Flowbuilder
from ._version import __version__

__all__ = [
    "APIConnectionError",
    "APIError",
    "AsyncFlowbuilder",
    "AuthenticationError",
    "ConflictError",
    "ExecutionEvent",
    "Flowbuilder",
    "FlowbuilderError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "ServiceUnavailableError",
    "StreamError",
    "ValidationError",
    "WaitTimeoutError",
    "__version__",
    "models",
]
