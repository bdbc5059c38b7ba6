"""The API's areas, one class each. ``_sync/_resources.py`` is generated from this file.

Methods take the request's fields as keyword arguments; those that seed 002's clients call with a
dict (``workflows.create``, ``workflows.execute``) take that dict too. Answers are the models of
:mod:`flowbuilder_client.models`, generated from the server's OpenAPI schema; ``list`` methods
iterate every page.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import AsyncIterator, Mapping
from typing import IO, TYPE_CHECKING, Any, List, TypeVar, Union

from pydantic import BaseModel
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosedError, InvalidStatus

from .. import models as m
from .._config import FINISHED, async_sleep, merge_body
from .._errors import AuthenticationError, NotFoundError, ServiceUnavailableError, StreamError, WaitTimeoutError
from .._events import ExecutionEvent

if TYPE_CHECKING:
    from ._client import AsyncFlowbuilder

API = "/api/v1"
M = TypeVar("M", bound=BaseModel)
ExecuteResult = Union[m.ExecutionDetail, m.ExecutionAccepted]
FileInput = Union[str, "os.PathLike[str]", bytes, IO[bytes]]


class _Resource:
    def __init__(self, client: AsyncFlowbuilder) -> None:
        self._client = client

    async def _call(
        self,
        model: type[M],
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> M:
        response = await self._client.request(method, API + path, params=params, json=json, headers=headers)
        return model.model_validate(response.json())

    async def _send(self, method: str, path: str, *, json: Any = None) -> None:
        """A request answered without a body (204)."""
        await self._client.request(method, API + path, json=json)

    async def _pages(self, model: type[M], path: str, params: Mapping[str, Any]) -> AsyncIterator[M]:
        page = 1
        while True:
            query = {**params, "page": page, "size": self._client._page_size}
            body = (await self._client.request("GET", API + path, params=query)).json()
            for item in body["items"]:
                yield model.model_validate(item)
            if not body["items"] or page >= body.get("pages", page):
                return
            page += 1


def _execute_result(body: Any) -> ExecuteResult:
    """A run that ended comes back whole (with its steps); one still going as the short answer."""
    if isinstance(body, dict) and "steps" in body:
        return m.ExecutionDetail.model_validate(body)
    return m.ExecutionAccepted.model_validate(body)


class Auth(_Resource):
    """Accounts and tokens. ``login`` (and ``register`` followed by it) sets the client's token."""

    async def register(self, email: str, password: str, **fields: Any) -> m.User:
        return await self._call(m.User, "POST", "/auth/register", json={"email": email, "password": password, **fields})

    async def login(self, email: str, password: str) -> m.TokenPair:
        pair = await self._call(m.TokenPair, "POST", "/auth/login", json={"email": email, "password": password})
        self._client.token = pair.access_token
        return pair

    async def refresh(self, refresh_token: str) -> m.TokenPair:
        pair = await self._call(m.TokenPair, "POST", "/auth/refresh", json={"refresh_token": refresh_token})
        self._client.token = pair.access_token
        return pair

    async def logout(self, refresh_token: str) -> None:
        await self._send("POST", "/auth/logout", json={"refresh_token": refresh_token})

    async def me(self) -> m.User:
        return await self._call(m.User, "GET", "/auth/me")

    async def change_password(self, current_password: str, new_password: str) -> None:
        body = {"current_password": current_password, "new_password": new_password}
        await self._send("POST", "/auth/password", json=body)

    async def guest(self) -> m.TokenPair:
        pair = await self._call(m.TokenPair, "POST", "/auth/guest")
        self._client.token = pair.access_token
        return pair

    async def cross_system_token(self, target_system: str, permissions: List[str]) -> m.CrossSystemToken:
        body = {"target_system": target_system, "permissions": permissions}
        return await self._call(m.CrossSystemToken, "POST", "/auth/cross-system-token", json=body)

    async def user(self, user_id: str) -> m.User:
        return await self._call(m.User, "GET", f"/users/{user_id}")


class ApiKeys(_Resource):
    def list(self) -> AsyncIterator[m.ApiKey]:
        return self._pages(m.ApiKey, "/api-keys", {})

    async def create(
        self, name: str, *, scopes: List[str] | None = None, expires_at: str | None = None
    ) -> m.ApiKeyCreated:
        body = merge_body(None, {"name": name, "scopes": scopes, "expires_at": expires_at})
        return await self._call(m.ApiKeyCreated, "POST", "/api-keys", json=body)

    async def delete(self, key_id: str) -> None:
        await self._send("DELETE", f"/api-keys/{key_id}")


class Workflows(_Resource):
    def list(self, **filters: Any) -> AsyncIterator[m.WorkflowList]:
        """Every workflow you can see; filters: ``search``, ``category``, ``tag``, ``is_active``, ``ordering``."""
        return self._pages(m.WorkflowList, "/workflows", filters)

    async def create(
        self,
        body: Mapping[str, Any] | None = None,
        *,
        name: str | None = None,
        definition: Mapping[str, Any] | BaseModel | None = None,
        description: str | None = None,
        category: str | None = None,
        tags: List[str] | None = None,
        is_active: bool | None = None,
        **fields: Any,
    ) -> m.WorkflowCreated:
        """Create a workflow: keyword arguments, or seed 002's dict (``{"name", "workflow_data"}``)."""
        payload = merge_body(
            body,
            {
                "name": name,
                "definition": definition,
                "description": description,
                "category": category,
                "tags": tags,
                "is_active": is_active,
                **fields,
            },
        )
        return await self._call(m.WorkflowCreated, "POST", "/workflows", json=payload)

    async def get(self, workflow_id: str) -> m.WorkflowDetail:
        return await self._call(m.WorkflowDetail, "GET", f"/workflows/{workflow_id}")

    async def update(self, workflow_id: str, **fields: Any) -> m.WorkflowDetail:
        """Change some fields (PATCH); pass ``version=`` to get a 409 if someone changed it meanwhile."""
        return await self._call(m.WorkflowDetail, "PATCH", f"/workflows/{workflow_id}", json=fields)

    async def replace(
        self, workflow_id: str, *, name: str, definition: Mapping[str, Any] | BaseModel, **fields: Any
    ) -> m.WorkflowDetail:
        body = {"name": name, "definition": definition, **fields}
        return await self._call(m.WorkflowDetail, "PUT", f"/workflows/{workflow_id}", json=body)

    async def delete(self, workflow_id: str) -> None:
        await self._send("DELETE", f"/workflows/{workflow_id}")

    async def execute(
        self,
        workflow_id: str,
        body: Mapping[str, Any] | None = None,
        *,
        input_data: Any = None,
        mode: str | None = None,
        webhook_url: str | None = None,
        idempotency_key: str | None = None,
    ) -> ExecuteResult:
        """Start a run. ``mode="sync"`` waits (up to the server's bound) and returns the finished run.

        Every call sends an ``Idempotency-Key`` (``idempotency_key``, else a new one), so a retry
        after a lost answer never starts a second run.
        """
        payload = merge_body(body, {"input_data": input_data, "mode": mode, "webhook_url": webhook_url})
        headers = {"Idempotency-Key": idempotency_key or f"sdk-{uuid.uuid4()}"}
        response = await self._client.request(
            "POST", f"{API}/workflows/{workflow_id}/execute", json=payload, headers=headers
        )
        return _execute_result(response.json())

    def executions(self, workflow_id: str, **filters: Any) -> AsyncIterator[m.ExecutionList]:
        return self._pages(m.ExecutionList, f"/workflows/{workflow_id}/executions", filters)

    async def validate(self, definition: Mapping[str, Any] | BaseModel) -> m.ValidationResult:
        return await self._call(m.ValidationResult, "POST", "/workflows/validate", json={"definition": definition})

    async def import_(
        self, data: Mapping[str, Any] | BaseModel, *, name: str | None = None, is_active: bool | None = None
    ) -> m.WorkflowCreated:
        """Import an export (``workflows.export``'s answer, as it comes or as a dict) as a new workflow."""
        body = merge_body(None, {"data": data, "name": name, "is_active": is_active})
        return await self._call(m.WorkflowCreated, "POST", "/workflows/import", json=body)

    async def export(self, workflow_id: str) -> m.Export:
        return await self._call(m.Export, "GET", f"/workflows/{workflow_id}/export")

    def versions(self, workflow_id: str) -> AsyncIterator[m.WorkflowVersion]:
        return self._pages(m.WorkflowVersion, f"/workflows/{workflow_id}/versions", {})

    async def version(self, workflow_id: str, number: int) -> m.WorkflowVersionDetail:
        return await self._call(m.WorkflowVersionDetail, "GET", f"/workflows/{workflow_id}/versions/{number}")

    async def restore_version(self, workflow_id: str, number: int) -> m.WorkflowDetail:
        return await self._call(m.WorkflowDetail, "POST", f"/workflows/{workflow_id}/versions/{number}/restore")

    def shares(self, workflow_id: str) -> AsyncIterator[m.Share]:
        return self._pages(m.Share, f"/workflows/{workflow_id}/shares", {})

    async def share(self, workflow_id: str, email: str, *, role: str | None = None) -> m.Share:
        body = merge_body(None, {"email": email, "role": role})
        return await self._call(m.Share, "POST", f"/workflows/{workflow_id}/shares", json=body)

    async def unshare(self, workflow_id: str, user_id: str) -> None:
        await self._send("DELETE", f"/workflows/{workflow_id}/shares/{user_id}")

    async def save_as_template(self, workflow_id: str, **fields: Any) -> m.TemplateDetail:
        return await self._call(m.TemplateDetail, "POST", f"/workflows/{workflow_id}/save-as-template", json=fields)

    async def regenerate_webhook(self, workflow_id: str) -> m.WorkflowDetail:
        return await self._call(m.WorkflowDetail, "POST", f"/workflows/{workflow_id}/webhook/regenerate")


class Executions(_Resource):
    def list(self, **filters: Any) -> AsyncIterator[m.ExecutionList]:
        """Every run you can see; filters: ``status``, ``workflow``, ``trigger``, ``mode``, ``started_after``, ..."""
        return self._pages(m.ExecutionList, "/executions", filters)

    async def get(self, execution_id: str) -> m.ExecutionDetail:
        return await self._call(m.ExecutionDetail, "GET", f"/executions/{execution_id}")

    async def wait(self, execution_id: str, *, timeout: float = 60.0, poll_interval: float = 0.5) -> m.ExecutionDetail:
        """Poll until the run has ended (completed, failed, cancelled, timed out) and return it.

        Raises :class:`WaitTimeoutError` (a ``TimeoutError``) after ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout
        interval = 0.05
        while True:
            execution = await self.get(execution_id)
            if execution.status in FINISHED:
                return execution
            if time.monotonic() >= deadline:
                raise WaitTimeoutError(f"Run {execution_id} is still {execution.status} after {timeout:g} s", execution)
            await async_sleep(min(interval, max(0.0, deadline - time.monotonic())))
            interval = min(interval * 2, poll_interval)

    async def stream(self, execution_id: str) -> AsyncIterator[ExecutionEvent]:
        """The run's live messages (SPEC §4): a snapshot first, then updates; ends after the last one."""
        config = self._client._config
        url = config.websocket_url(f"executions/{execution_id}/")
        try:
            async with connect(url, additional_headers=config.auth_headers(), open_timeout=config.timeout) as socket:
                async for message in socket:
                    event: ExecutionEvent = json.loads(message)
                    yield event
        except ConnectionClosedError as exc:
            code = exc.rcvd.code if exc.rcvd else None
            if code == 4401:
                raise AuthenticationError(
                    "The live socket refused the credentials", status_code=401, code="UNAUTHORIZED"
                ) from exc
            if code == 4403:
                raise NotFoundError(f"No run {execution_id} you may follow", status_code=404, code="NOT_FOUND") from exc
            raise StreamError(f"The live socket closed: {exc}", code) from exc
        except InvalidStatus as exc:
            raise StreamError(f"The live socket was refused: HTTP {exc.response.status_code}", None) from exc

    def logs(self, execution_id: str, **filters: Any) -> AsyncIterator[m.ExecutionLog]:
        """The run's log lines, oldest first; filters: ``level``, ``node_id``."""
        return self._pages(m.ExecutionLog, f"/executions/{execution_id}/logs", filters)

    async def cancel(self, execution_id: str) -> m.ExecutionDetail:
        return await self._call(m.ExecutionDetail, "POST", f"/executions/{execution_id}/cancel")

    async def retry(self, execution_id: str) -> m.ExecutionAccepted:
        """Run a failed, cancelled or timed-out run again from its failed steps."""
        return await self._call(m.ExecutionAccepted, "POST", f"/executions/{execution_id}/retry")

    async def rerun(self, execution_id: str) -> m.ExecutionAccepted:
        """A fresh run of the workflow's current version with the same input."""
        return await self._call(m.ExecutionAccepted, "POST", f"/executions/{execution_id}/rerun")

    async def approve(self, execution_id: str, node_id: str, *, comment: str | None = None) -> m.ExecutionDetail:
        body = merge_body(None, {"comment": comment})
        return await self._call(
            m.ExecutionDetail, "POST", f"/executions/{execution_id}/steps/{node_id}/approve", json=body
        )

    async def reject(self, execution_id: str, node_id: str, *, comment: str | None = None) -> m.ExecutionDetail:
        body = merge_body(None, {"comment": comment})
        return await self._call(
            m.ExecutionDetail, "POST", f"/executions/{execution_id}/steps/{node_id}/reject", json=body
        )


class Credentials(_Resource):
    def list(self, **filters: Any) -> AsyncIterator[m.Credential]:
        return self._pages(m.Credential, "/credentials", filters)

    async def create(self, name: str, type: str, data: Mapping[str, Any]) -> m.Credential:
        return await self._call(m.Credential, "POST", "/credentials", json={"name": name, "type": type, "data": data})

    async def get(self, credential_id: str) -> m.Credential:
        return await self._call(m.Credential, "GET", f"/credentials/{credential_id}")

    async def update(
        self, credential_id: str, *, name: str | None = None, data: Mapping[str, Any] | None = None
    ) -> m.Credential:
        body = merge_body(None, {"name": name, "data": data})
        return await self._call(m.Credential, "PATCH", f"/credentials/{credential_id}", json=body)

    async def delete(self, credential_id: str) -> None:
        await self._send("DELETE", f"/credentials/{credential_id}")

    async def test(self, credential_id: str, *, post: bool | None = None) -> m.CredentialTestResult:
        body = merge_body(None, {"post": post})
        return await self._call(m.CredentialTestResult, "POST", f"/credentials/{credential_id}/test", json=body)

    async def types(self) -> List[m.CredentialType]:
        response = await self._client.request("GET", f"{API}/credential-types")
        return [m.CredentialType.model_validate(item) for item in response.json()]


class Integrations(_Resource):
    def list(self) -> AsyncIterator[m.Integration]:
        return self._pages(m.Integration, "/integrations", {})

    async def create(self, type: str, name: str, **fields: Any) -> m.Integration:
        return await self._call(m.Integration, "POST", "/integrations", json={"type": type, "name": name, **fields})

    async def get(self, integration_id: str) -> m.Integration:
        return await self._call(m.Integration, "GET", f"/integrations/{integration_id}")

    async def update(self, integration_id: str, **fields: Any) -> m.Integration:
        return await self._call(m.Integration, "PATCH", f"/integrations/{integration_id}", json=fields)

    async def delete(self, integration_id: str) -> None:
        await self._send("DELETE", f"/integrations/{integration_id}")


class Webhooks(_Resource):
    """Outgoing webhooks: URLs the server calls, signed, when events happen."""

    def list(self) -> AsyncIterator[m.Webhook]:
        return self._pages(m.Webhook, "/webhooks", {})

    async def create(self, url: str, events: List[str], **fields: Any) -> m.WebhookWithSecret:
        return await self._call(m.WebhookWithSecret, "POST", "/webhooks", json={"url": url, "events": events, **fields})

    async def get(self, webhook_id: str) -> m.Webhook:
        return await self._call(m.Webhook, "GET", f"/webhooks/{webhook_id}")

    async def update(self, webhook_id: str, **fields: Any) -> m.Webhook:
        return await self._call(m.Webhook, "PATCH", f"/webhooks/{webhook_id}", json=fields)

    async def delete(self, webhook_id: str) -> None:
        await self._send("DELETE", f"/webhooks/{webhook_id}")

    def deliveries(self, webhook_id: str, **filters: Any) -> AsyncIterator[m.WebhookDelivery]:
        return self._pages(m.WebhookDelivery, f"/webhooks/{webhook_id}/deliveries", filters)

    async def rotate_secret(self, webhook_id: str) -> m.WebhookWithSecret:
        return await self._call(m.WebhookWithSecret, "POST", f"/webhooks/{webhook_id}/rotate-secret")

    async def test(self, webhook_id: str) -> m.WebhookDelivery:
        return await self._call(m.WebhookDelivery, "POST", f"/webhooks/{webhook_id}/test")

    def run_deliveries(self, **filters: Any) -> AsyncIterator[m.WebhookDelivery]:
        """Deliveries to the ``webhook_url`` your executes named."""
        return self._pages(m.WebhookDelivery, "/webhooks/run-deliveries", filters)

    async def signing_secret(self) -> m.SigningSecret:
        return await self._call(m.SigningSecret, "GET", "/webhooks/signing-secret")

    async def create_signing_secret(self) -> m.SigningSecretWithSecret:
        return await self._call(m.SigningSecretWithSecret, "POST", "/webhooks/signing-secret")


class Templates(_Resource):
    def list(self, **filters: Any) -> AsyncIterator[m.TemplateList]:
        return self._pages(m.TemplateList, "/templates", filters)

    async def get(self, template_id: str) -> m.TemplateDetail:
        return await self._call(m.TemplateDetail, "GET", f"/templates/{template_id}")

    async def create(self, name: str, definition: Mapping[str, Any] | BaseModel, **fields: Any) -> m.TemplateDetail:
        body = {"name": name, "definition": definition, **fields}
        return await self._call(m.TemplateDetail, "POST", "/templates", json=body)

    async def update(self, template_id: str, **fields: Any) -> m.TemplateDetail:
        return await self._call(m.TemplateDetail, "PATCH", f"/templates/{template_id}", json=fields)

    async def delete(self, template_id: str) -> None:
        await self._send("DELETE", f"/templates/{template_id}")

    async def instantiate(
        self,
        template_id: str,
        *,
        name: str | None = None,
        parameter_values: Mapping[str, Any] | None = None,
        **fields: Any,
    ) -> m.InstantiatedWorkflow:
        """A new workflow from the template, with its parameters filled in."""
        body = merge_body(None, {"name": name, "parameter_values": parameter_values, **fields})
        return await self._call(m.InstantiatedWorkflow, "POST", f"/templates/{template_id}/instantiate", json=body)


class Files(_Resource):
    def list(self, **filters: Any) -> AsyncIterator[m.File]:
        return self._pages(m.File, "/files", filters)

    async def upload(
        self,
        file: FileInput,
        *,
        filename: str | None = None,
        content_type: str | None = None,
        description: str | None = None,
        workflow_id: str | None = None,
        process_immediately: bool | None = None,
    ) -> m.File:
        """Upload a path, bytes or a binary file object; with ``workflow_id`` the file can start a run."""
        if isinstance(file, (str, os.PathLike)):
            with open(file, "rb") as handle:
                content = handle.read()
            filename = filename or os.path.basename(os.fspath(file))
        elif isinstance(file, bytes):
            content = file
        else:
            content = file.read()
            filename = filename or os.path.basename(str(getattr(file, "name", "") or ""))
        fields = merge_body(
            None,
            {
                "description": description,
                "workflow_id": workflow_id,
                "process_immediately": None if process_immediately is None else str(process_immediately).lower(),
            },
        )
        files = {"file": (filename or "upload", content, content_type or "application/octet-stream")}
        response = await self._client.request("POST", f"{API}/files/upload", data=fields, files=files)
        return m.File.model_validate(response.json())

    async def get(self, file_id: str) -> m.File:
        return await self._call(m.File, "GET", f"/files/{file_id}")

    async def download(self, file_id: str) -> bytes:
        response = await self._client.request("GET", f"{API}/files/{file_id}/download")
        return response.content

    async def delete(self, file_id: str) -> None:
        await self._send("DELETE", f"/files/{file_id}")

    async def process(self, file_id: str, *, workflow_id: str | None = None, input_data: Any = None) -> m.File:
        body = merge_body(None, {"workflow_id": workflow_id, "input_data": input_data})
        return await self._call(m.File, "POST", f"/files/{file_id}/process", json=body)


class AI(_Resource):
    async def chat(self, messages: List[Mapping[str, Any]], **options: Any) -> m.AIChatResult:
        """Chat with a model of your (or the server's) OpenAI-compatible provider."""
        return await self._call(m.AIChatResult, "POST", "/ai/chat", json={"messages": messages, **options})

    async def analyze_image(self, prompt: str, **options: Any) -> m.AIImageAnalyzeResult:
        return await self._call(m.AIImageAnalyzeResult, "POST", "/ai/image/analyze", json={"prompt": prompt, **options})

    async def generate_image(self, prompt: str, **options: Any) -> m.AIImageGenerateResult:
        return await self._call(
            m.AIImageGenerateResult, "POST", "/ai/image/generate", json={"prompt": prompt, **options}
        )


class Analytics(_Resource):
    """Periods are ``from``/``to`` dates; ``from`` is a Python keyword, so pass ``**{"from": ...}`` or ``start=``."""

    @staticmethod
    def _period(params: dict[str, Any]) -> dict[str, Any]:
        if "start" in params:
            params["from"] = params.pop("start")
        if "end" in params:
            params["to"] = params.pop("end")
        return params

    async def usage(self, **params: Any) -> m.AnalyticsUsage:
        return await self._call(m.AnalyticsUsage, "GET", "/analytics/usage", params=self._period(params))

    async def costs(self, **params: Any) -> m.AnalyticsCosts:
        return await self._call(m.AnalyticsCosts, "GET", "/analytics/costs", params=self._period(params))

    def workflows(self, **params: Any) -> AsyncIterator[m.AnalyticsWorkflow]:
        return self._pages(m.AnalyticsWorkflow, "/analytics/workflows", self._period(params))


class Monitoring(_Resource):
    async def health(self) -> m.Health:
        """The health check (answered even by a server that reports itself unhealthy)."""
        try:
            response = await self._client.request("GET", f"{API}/monitoring/health")
        except ServiceUnavailableError as exc:  # 503 says which dependency is down, in the same body
            if exc.response is None:
                raise
            response = exc.response
        return m.Health.model_validate(response.json())

    async def metrics(self) -> m.Metrics:
        return await self._call(m.Metrics, "GET", "/monitoring/metrics")


class Audit(_Resource):
    def list(self, **filters: Any) -> AsyncIterator[m.AuditEvent]:
        return self._pages(m.AuditEvent, "/audit", filters)


class NodeTypes(_Resource):
    async def list(self, *, category: str | None = None) -> List[m.NodeType]:
        response = await self._client.request("GET", f"{API}/node-types", params={"category": category})
        return [m.NodeType.model_validate(item) for item in response.json()]


class Test(_Resource):
    """Drafting and dry runs: nothing here has side effects."""

    async def parse(self, text: str) -> m.ParseResult:
        """Draft a workflow definition from a plain-English description."""
        return await self._call(m.ParseResult, "POST", "/test/parse", json={"text": text})

    async def execute(self, workflow_id: str, *, trigger_data: Any = None) -> ExecuteResult:
        """Dry-run a workflow: side effects are simulated."""
        body = merge_body(None, {"trigger_data": trigger_data})
        response = await self._client.request("POST", f"{API}/test/execute/{workflow_id}", json=body)
        return _execute_result(response.json())
