"""The API's models, generated from clients/openapi.json by clients/generate.py: do not edit."""

from __future__ import annotations

from datetime import date as date_aliased
from typing import Any, Dict, List, Literal, Optional, Union
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, RootModel


class AnalyticsDaily(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    date: date_aliased
    executions: int
    completed: int
    failed: int
    api_calls: int


class AnalyticsLLMTotals(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    requests: int
    total_tokens: int
    cost: float


class AnalyticsModelCost(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    provider: str
    requests: int
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    cost: float
    model: str


class AnalyticsProviderCost(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    provider: str
    requests: int
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    cost: float


class AnalyticsRunTotals(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    total: int
    completed: int
    failed: int = Field(..., description="failed and timed_out")
    cancelled: int
    active: int = Field(..., description="queued, running or waiting")
    success_rate: Optional[float] = Field(..., description="completed / (completed + failed)")
    average_duration: Optional[float] = Field(..., description="Seconds, of the runs that ended.")


class AnalyticsUser(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    id: UUID
    email: str


class AnalyticsWorkflow(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    workflow_id: UUID
    name: str
    executions: int
    completed: int
    failed: int
    cancelled: int
    active: int
    success_rate: Optional[float] = Field(...)
    average_duration: Optional[float] = Field(...)
    last_run_at: AwareDatetime


class ApiKey(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    id: UUID
    name: str
    key_preview: str
    scopes: Any
    expires_at: Optional[AwareDatetime] = Field(...)
    last_used_at: Optional[AwareDatetime] = Field(...)
    created_at: AwareDatetime


class ApiKeyCreated(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    id: UUID
    name: str
    key_preview: str
    scopes: Any
    expires_at: Optional[AwareDatetime] = Field(...)
    last_used_at: Optional[AwareDatetime] = Field(...)
    created_at: AwareDatetime
    key: str = Field(..., description="The key itself. It is shown this once only.")


class ApplicationRequests(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    total: int
    by_status_class: Dict[str, int]


class Companion(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    key: str = Field(..., description="Referred to as {{ companions.<key> }} (its workflow id).", max_length=64)
    name: str = Field(..., max_length=150)
    description: str = Field("", max_length=2000)
    definition: Any


class CompanionRequest(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    key: str = Field(
        ..., description="Referred to as {{ companions.<key> }} (its workflow id).", max_length=64, min_length=1
    )
    name: str = Field(..., max_length=150, min_length=1)
    description: str = Field("", max_length=2000)
    definition: Any


class CompanionWorkflow(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    key: str
    id: UUID
    name: str


class CredentialTestInputRequest(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    post: bool = Field(False, description="slack_webhook only: post a test message to the channel.")


class CredentialTestResult(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    ok: Optional[bool] = Field(..., description="null when nothing could be tested.")
    message: str
    details: Dict[str, Any]


class CredentialType(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    type: str
    label: str
    schema_: Dict[str, Any] = Field(..., alias="schema", description="JSON Schema of the credential's data.")
    secret_fields: List[str] = Field(..., description="Fields never shown again.")


class CrossSystemToken(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    token: str
    token_type: str
    expires_in: int
    expires_at: AwareDatetime
    target_system: str
    permissions: List[str]


class Permission(RootModel[str]):
    root: str = Field(..., max_length=50, min_length=1)


class CrossSystemTokenInputRequest(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    target_system: str = Field(
        ..., description="The audience of the token.", min_length=1, pattern="^[A-Za-z0-9._:/\\-]{1,100}$"
    )
    permissions: List[Permission] = Field(..., max_length=50)


class DecisionInputRequest(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    comment: str = Field("", max_length=2000)


class ExecutionStats(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    total_executions: int
    successful_executions: int = Field(..., description="Runs that ended `completed`.")
    failed_executions: int = Field(..., description="Runs that ended `failed` or `timed_out`.")
    average_duration: Optional[float] = Field(..., description="Seconds.")


class HealthCheck(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    ok: bool
    critical: bool = Field(..., description="Whether a failure makes the service unavailable (503).")
    response_time_ms: float
    error: Optional[str] = Field(...)
    detail: Optional[Any] = None


class Image(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    url: Optional[str] = None
    b64_json: Optional[str] = None
    revised_prompt: Optional[str] = None


class ImportInputRequest(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    data: Any = Field(..., description="A Flowbuilder export, a workflow object of the seed format, or a definition.")
    name: Optional[str] = Field(None, description="Overrides the imported name.", max_length=200, min_length=1)
    is_active: bool = True


class Tag(RootModel[str]):
    root: str = Field(..., max_length=50, min_length=1)


class InstantiateInputRequest(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    name: Optional[str] = Field(
        None, description="The new workflow's name; the template's by default.", max_length=200, min_length=1
    )
    description: Optional[str] = Field(None, max_length=10000)
    parameter_values: Optional[Dict[str, Any]] = Field(
        None, description="Parameter name to value; parameters left out get their default."
    )
    is_active: bool = True
    tags: Optional[List[Tag]] = Field(None, max_length=20)


class Integration(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    id: UUID
    type: str
    name: str
    settings: Any
    credential: Optional[UUID] = Field(...)
    credential_type: Optional[str] = Field(...)
    created_at: AwareDatetime
    updated_at: AwareDatetime


class IntegrationInputRequest(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    type: str = Field(
        ...,
        description="The kind of service, e.g. slack, github, openai.",
        min_length=1,
        pattern="^[a-z0-9][a-z0-9_.\\-]{0,63}$",
    )
    name: str = Field(..., max_length=200, min_length=1)
    settings: Optional[Any] = Field(None, description="Non-secret settings (an object).")
    credential: Optional[UUID] = Field(None, description="A credential of yours.")


class LoginInputRequest(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    email: str = Field(..., max_length=254, min_length=1)
    password: str = Field(..., max_length=128, min_length=1)


class MetricsModelUsage(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    provider: str
    requests: int
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    cost: float
    model: str


class MetricsProviderUsage(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    provider: str
    requests: int
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    cost: float


class MetricsQueue(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    available: bool
    queues: Dict[str, int]
    error: Optional[str] = Field(...)


class MetricsRunStats(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    since: AwareDatetime
    runs: int
    completed: int
    failed: int = Field(..., description="failed and timed_out")
    cancelled: int
    failure_rate: Optional[float] = Field(..., description="failed / (completed + failed)")
    p50_seconds: Optional[float] = Field(...)
    p95_seconds: Optional[float] = Field(...)
    queued: int
    running: int
    waiting: int


class NodeType(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    type: str
    label: str
    description: str
    category: str
    inputs: List[str]
    outputs: List[str]
    dynamic_outputs: bool
    config_schema: Dict[str, Any]
    credential_types: List[str]
    credential_required: bool
    is_trigger: bool
    side_effects: bool
    aliases: List[str]


class OAuth2PasswordInputRequest(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    grant_type: Literal["password"] = Field("password", description="* `password` - password")
    username: str = Field(..., description="The account's e-mail address.", max_length=254, min_length=1)
    password: str = Field(..., max_length=128, min_length=1)
    scope: Optional[str] = None


class PaginatedAnalyticsWorkflowList(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    items: List[AnalyticsWorkflow]
    total: int = Field(..., examples=[42])
    page: int = Field(..., examples=[1])
    size: int = Field(..., examples=[20])
    pages: int = Field(..., examples=[3])


class PaginatedApiKeyList(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    items: List[ApiKey]
    total: int = Field(..., examples=[42])
    page: int = Field(..., examples=[1])
    size: int = Field(..., examples=[20])
    pages: int = Field(..., examples=[3])


class PaginatedIntegrationList(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    items: List[Integration]
    total: int = Field(..., examples=[42])
    page: int = Field(..., examples=[1])
    size: int = Field(..., examples=[20])
    pages: int = Field(..., examples=[3])


class ParseInputRequest(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    text: str = Field(
        ...,
        description="What the workflow should do, in plain English: a trigger, then steps joined by 'then', commas or numbered lines.",
        max_length=4000,
        min_length=1,
    )


class ParseWarning(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    field: Optional[str] = Field(..., description="'text', or the definition path of a placeholder to fill in.")
    message: str
    start: Optional[int] = Field(..., description="First character of the words meant (0-based).")
    end: Optional[int] = Field(..., description="Character after the last one (exclusive).")


class PasswordChangeInputRequest(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    current_password: str = Field(..., max_length=128, min_length=1)
    new_password: str = Field(..., max_length=128, min_length=1)


class PatchedCredentialUpdateRequest(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    name: Optional[str] = Field(None, max_length=200, min_length=1)
    data: Optional[Any] = Field(
        None, description="Fields to change, merged over the stored data; null removes a field. The type cannot change."
    )


class PatchedIntegrationInputRequest(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    type: Optional[str] = Field(
        None,
        description="The kind of service, e.g. slack, github, openai.",
        min_length=1,
        pattern="^[a-z0-9][a-z0-9_.\\-]{0,63}$",
    )
    name: Optional[str] = Field(None, max_length=200, min_length=1)
    settings: Optional[Any] = Field(None, description="Non-secret settings (an object).")
    credential: Optional[UUID] = Field(None, description="A credential of yours.")


class Problem(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    field: Optional[str] = Field(...)
    message: str


class ProcessInputRequest(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    workflow_id: Optional[UUID] = Field(None, description="The workflow to run; the file's linked one if unset.")
    input_data: Optional[Dict[str, Any]] = Field(
        None, description="More input for the run; `file` is set to the file's reference."
    )


class RefreshInputRequest(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    refresh_token: str = Field(..., min_length=1)


class RegisterInputRequest(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    email: str = Field(..., max_length=254, min_length=1)
    password: str = Field(..., max_length=128, min_length=1)
    first_name: str = Field("", max_length=150)
    last_name: str = Field("", max_length=150)
    company: str = Field("", max_length=200)
    full_name: Optional[str] = Field(None, description="Seed 003's field: split at the first space.", max_length=301)


class Share(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    user_id: UUID
    email: str
    role: Literal["viewer", "operator", "editor"] = Field(
        ..., description="* `viewer` - Viewer\n* `operator` - Operator\n* `editor` - Editor"
    )
    created_at: AwareDatetime


class ShareInputRequest(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    email: str = Field(..., min_length=1)
    role: Literal["viewer", "operator", "editor"] = Field(
        "viewer", description="* `viewer` - Viewer\n* `operator` - Operator\n* `editor` - Editor"
    )


class SigningSecret(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    secret_hint: str
    created_at: AwareDatetime
    updated_at: AwareDatetime


class SigningSecretWithSecret(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    secret_hint: str
    created_at: AwareDatetime
    updated_at: AwareDatetime
    secret: str = Field(..., description="Signs the deliveries to your runs' webhook_url. Shown only now.")


class SystemMemory(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    total_bytes: Optional[int] = Field(...)
    available_bytes: Optional[int] = Field(...)
    used_percent: Optional[float] = Field(...)


class SystemProcess(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    pid: int
    rss_bytes: Optional[int] = Field(...)
    cpu_seconds: float
    uptime_seconds: float


class TemplateList(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    id: UUID
    key: Optional[str] = Field(..., description="Stable identifier of a built-in template.", pattern="^[-a-zA-Z0-9_]+$")
    name: str
    description: str
    category: str
    is_builtin: bool
    is_active: bool
    created_by: Optional[UUID] = Field(...)
    usage_count: int = Field(..., description="How many workflows were made from it.")
    parameter_count: int
    editable: bool = Field(..., description="Whether you may change or delete it.")
    created_at: AwareDatetime
    updated_at: AwareDatetime


class TemplateParameter(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    name: str
    description: str
    parameter_type: Literal["string", "number", "boolean", "email", "url", "enum", "json"] = Field(
        ...,
        description="* `string` - String\n* `number` - Number\n* `boolean` - Boolean\n* `email` - Email\n* `url` - Url\n* `enum` - Enum\n* `json` - Json",
    )
    is_required: bool = Field(..., description="A value must be given unless there is a default.")
    default_value: Optional[Any] = Field(...)
    choices: Any = Field(..., description="The allowed values of an enum.")


class TestExecuteInputRequest(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    trigger_data: Optional[Any] = Field(None, description="The trigger data of the dry run: any JSON.")


class UploadInputRequest(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    file: bytes = Field(..., description="The file (multipart).")
    description: str = Field("", max_length=10000)
    process_immediately: bool = Field(False, description="Start the workflow on it at once (needs workflow_id).")
    workflow_id: Optional[UUID] = Field(None, description="The workflow that processes it (linked to the file).")


class Usage(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class User(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    id: UUID
    email: str
    first_name: str
    last_name: str
    company: str
    is_staff: bool
    is_guest: bool
    guest_expires_at: Optional[AwareDatetime] = Field(...)
    date_joined: AwareDatetime
    last_login: Optional[AwareDatetime] = Field(...)
    roles: List[str]
    permissions: List[str]


class ValidationResult(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    valid: bool
    errors: List[Problem]
    warnings: List[Problem]
    definition: Any = Field(..., description="The definition in canonical form.")


class WebhookAccepted(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    execution_id: UUID


class WebhookInputRequest(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    url: str = Field(
        ...,
        description="Where events are POSTed: http(s), and not a private, loopback or link-local address (unless FLOWBUILDER_HTTP_ALLOWLIST names it).",
        max_length=2000,
        min_length=1,
    )
    events: List[
        Literal[
            "workflow.execution.started",
            "workflow.execution.completed",
            "workflow.execution.failed",
            "file.processing.completed",
            "user.quota.exceeded",
        ]
    ] = Field(
        ...,
        description="Events to receive: `workflow.execution.started`, `workflow.execution.completed`, `workflow.execution.failed`, `file.processing.completed`, `user.quota.exceeded`.",
        max_length=10,
    )
    workflow: Optional[UUID] = Field(
        None, description="Only events of this workflow (one of yours): its runs and the files it processes."
    )
    description: str = Field("", max_length=200)


class WebhookWithSecret(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    id: UUID
    url: str
    description: str
    events: List[
        Literal[
            "workflow.execution.started",
            "workflow.execution.completed",
            "workflow.execution.failed",
            "file.processing.completed",
            "user.quota.exceeded",
        ]
    ]
    workflow: Optional[UUID] = Field(...)
    is_active: bool
    secret_hint: str
    failure_count: int = Field(..., description="Failed attempts in a row (0 after a success).")
    disabled_at: Optional[AwareDatetime] = Field(..., description="When repeated failures disabled it.")
    disabled_reason: str
    last_success_at: Optional[AwareDatetime] = Field(...)
    last_failure_at: Optional[AwareDatetime] = Field(...)
    created_at: AwareDatetime
    updated_at: AwareDatetime
    secret: str = Field(
        ..., description="The signing secret (HMAC-SHA256 key of X-Flowbuilder-Signature). Shown only now: keep it."
    )


class WorkflowList(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    id: UUID
    name: str
    description: str
    category: str
    tags: List[str]
    is_active: bool
    version: int = Field(..., description="Number of the current definition version.")
    created_by: UUID
    owner_email: str
    shared_role: Optional[str] = Field(...)
    execution_count: int
    last_execution_at: Optional[AwareDatetime] = Field(...)
    created_at: AwareDatetime
    updated_at: AwareDatetime


class WorkflowMetrics(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    workflows: Dict[str, int]
    executions_by_status: Dict[str, int]
    last_24h: MetricsRunStats
    queue: MetricsQueue
    workers: Optional[List[str]] = Field(...)


class WorkflowVersion(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    number: int
    note: str
    author: Optional[str] = Field(...)
    created_at: AwareDatetime


class Detail(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    field: Optional[str] = Field(None, examples=["definition.nodes[2].type"])
    message: Optional[str] = None


class Error1(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    code: Literal[
        "VALIDATION_ERROR",
        "UNAUTHORIZED",
        "FORBIDDEN",
        "NOT_FOUND",
        "METHOD_NOT_ALLOWED",
        "CONFLICT",
        "PAYLOAD_TOO_LARGE",
        "UNSUPPORTED_MEDIA_TYPE",
        "UNPROCESSABLE",
        "RATE_LIMIT_EXCEEDED",
        "INTERNAL_ERROR",
        "SERVICE_UNAVAILABLE",
    ]
    reason: Optional[str] = Field(
        None,
        description="The specific cause, when there is one a client may act on (e.g. IDEMPOTENCY_KEY_REUSED, STORAGE_QUOTA_EXCEEDED, WEBHOOK_SIGNATURE_INVALID)",
    )
    message: str
    details: List[Detail]
    request_id: str
    timestamp: AwareDatetime


class Error(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    error: Error1


class Position(BaseModel):
    """
    Where an editor draws it.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    x: Optional[float] = None
    y: Optional[float] = None


class Retry(BaseModel):
    """
    Retries of a failed attempt, with exponential backoff from `backoff_seconds`.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    max_attempts: Optional[int] = Field(None, ge=1, le=10)
    backoff_seconds: Optional[float] = Field(None, ge=0.0, le=3600.0)
    backoff_max_seconds: Optional[float] = Field(None, ge=0.0, le=86400.0)


class WorkflowNode(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    id: str = Field(
        ...,
        description="Unique in the definition; other nodes' expressions reach its output as `steps.<id>.output`.",
        pattern="^[A-Za-z0-9_][A-Za-z0-9_.\\-]{0,63}$",
    )
    type: str = Field(
        ...,
        description="A node type of `GET /node-types` (`trigger.manual`, `http_request`, `condition`, …).",
        min_length=1,
    )
    name: Optional[str] = Field(None, max_length=200)
    notes: Optional[str] = Field(None, max_length=5000)
    config: Optional[Dict[str, Any]] = Field(
        None,
        description="The type's settings (its JSON Schema is in `GET /node-types`); strings may hold `{{ … }}` expressions.",
    )
    position: Optional[Position] = Field(None, description="Where an editor draws it.")
    retry: Optional[Retry] = Field(
        None, description="Retries of a failed attempt, with exponential backoff from `backoff_seconds`."
    )
    timeout_seconds: Optional[float] = Field(
        None, description="An attempt running longer fails (and may be retried).", gt=0.0, le=86400.0
    )
    on_error: Optional[Literal["stop", "continue", "error_port"]] = Field(
        None,
        description="When the node fails: `stop` the run (default), `continue` with the next nodes, or follow its `error` port.",
    )
    disabled: Optional[bool] = Field(None, description="Skipped, as if it were not there.")


class WorkflowEdge(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    id: Optional[str] = Field(None, max_length=200)
    source: str
    target: str
    source_port: Optional[str] = Field(
        None,
        description="Which output of the source: `true`/`false` of a condition, a case of a switch, `approved`/`rejected`, `error`; the default (`main`) is left out.",
        max_length=64,
    )


class WorkflowSettings(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    timeout_seconds: Optional[float] = Field(None, description="The whole run's time limit.", gt=0.0, le=2592000.0)
    max_concurrency: Optional[int] = Field(
        None, description="Runs of this workflow at once; more wait (`queue`) or are refused (`reject`).", ge=1, le=1000
    )
    concurrency_policy: Optional[Literal["queue", "reject"]] = None
    on_error: Optional[Literal["stop", "continue"]] = Field(None, description="The default `on_error` of the nodes.")


class WorkflowDefinition(BaseModel):
    """
    A workflow: nodes joined by edges, in the canonical form the API answers with. Exactly one trigger node; no cycles (loops are `for_each` nodes).
    """

    model_config = ConfigDict(
        extra="allow",
    )
    nodes: List[WorkflowNode] = Field(..., max_length=500)
    edges: Optional[List[WorkflowEdge]] = None
    variables: Optional[Dict[str, Any]] = Field(
        None, description="Constants the expressions read as `{{ vars.<name> }}`."
    )
    settings: Optional[WorkflowSettings] = None


class SeedDefinition(BaseModel):
    """
    Also accepted, and answered in the canonical form: the seed documents' React-Flow style (`nodes` with `data`, `connections`) and their step list (`steps` with `depends_on`).
    """

    model_config = ConfigDict(
        extra="allow",
    )


class AIChatResult(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    text: str
    message: Dict[str, Any]
    model: Optional[str] = Field(...)
    usage: Usage
    cost: float = Field(..., description="USD, by the server's price table.")
    provider: str
    finish_reason: Optional[str] = Field(...)


class AIImageAnalyzeInputRequest(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    prompt: str = Field(..., max_length=32000, min_length=1)
    image_url: Optional[str] = Field(None, max_length=4096, min_length=1)
    image_base64: Optional[str] = Field(None, description="The image's bytes, base64-encoded.", min_length=1)
    mime_type: Literal["image/png", "image/jpeg", "image/gif", "image/webp"] = Field(
        "image/png",
        description="* `image/png` - image/png\n* `image/jpeg` - image/jpeg\n* `image/gif` - image/gif\n* `image/webp` - image/webp",
    )
    detail: Optional[Literal["low", "high", "auto"]] = Field(
        None, description="* `low` - low\n* `high` - high\n* `auto` - auto"
    )
    model: Optional[str] = Field(None, max_length=200, min_length=1)
    max_tokens: Optional[int] = Field(None, ge=1, le=128000)
    credential_id: Optional[UUID] = None


class AIImageAnalyzeResult(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    text: str
    message: Dict[str, Any]
    model: Optional[str] = Field(...)
    usage: Usage
    cost: float = Field(..., description="USD, by the server's price table.")
    provider: str
    finish_reason: Optional[str] = Field(...)


class AIImageGenerateInputRequest(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    prompt: str = Field(..., max_length=32000, min_length=1)
    size: Optional[
        Literal["256x256", "512x512", "1024x1024", "1792x1024", "1024x1792", "1536x1024", "1024x1536", "auto"]
    ] = Field(
        None,
        description="* `256x256` - 256x256\n* `512x512` - 512x512\n* `1024x1024` - 1024x1024\n* `1792x1024` - 1792x1024\n* `1024x1792` - 1024x1792\n* `1536x1024` - 1536x1024\n* `1024x1536` - 1024x1536\n* `auto` - auto",
    )
    model: Optional[str] = Field(None, max_length=200, min_length=1)
    n: int = Field(1, ge=1, le=4)
    quality: Optional[str] = Field(None, max_length=32, min_length=1)
    credential_id: Optional[UUID] = None


class AIImageGenerateResult(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    images: List[Image]
    model: Optional[str] = Field(...)
    usage: Usage
    cost: float
    provider: str


class AnalyticsCosts(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    user: AnalyticsUser
    to: AwareDatetime
    available: bool = Field(..., description="false while no AI usage is recorded by this installation")
    requests: int
    total_tokens: int
    cost: float
    providers: List[AnalyticsProviderCost]
    models: List[AnalyticsModelCost]
    from_: AwareDatetime = Field(..., alias="from")


class AnalyticsUsage(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    user: AnalyticsUser
    to: AwareDatetime
    executions: AnalyticsRunTotals
    api_calls: int = Field(..., description="Counted per UTC day: partial days at the ends count whole.")
    llm: AnalyticsLLMTotals
    daily: List[AnalyticsDaily]
    from_: AwareDatetime = Field(..., alias="from")


class ApiKeyInputRequest(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    name: str = Field(..., max_length=100, min_length=1)
    scopes: Optional[
        List[
            Literal[
                "analytics:read",
                "api_key:write",
                "credential:read",
                "credential:write",
                "execution:approve",
                "execution:cancel",
                "execution:read",
                "file:read",
                "file:write",
                "log:read",
                "template:read",
                "template:write",
                "workflow:create",
                "workflow:delete",
                "workflow:execute",
                "workflow:read",
                "workflow:update",
            ]
        ]
    ] = Field(None, description="Defaults to every permission you hold.")
    expires_at: Optional[AwareDatetime] = None


class AuditEvent(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    id: UUID
    created_at: AwareDatetime
    actor: Optional[UUID] = Field(...)
    actor_email: str = Field(..., description="Kept when the actor is deleted.")
    action: str = Field(..., description="e.g. workflow.updated, auth.login_failed")
    object_type: str = Field(..., description="app_label.model, e.g. workflows.workflow")
    object_id: str
    object_repr: str
    changes: Any
    ip: Optional[str] = Field(...)
    user_agent: str
    request_id: str
    source: Literal["api", "admin", "web", "cli", "system"] = Field(
        ..., description="* `api` - Api\n* `admin` - Admin\n* `web` - Web\n* `cli` - Cli\n* `system` - System"
    )


class ChatMessageRequest(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    role: Literal["system", "user", "assistant"] = Field(
        ..., description="* `system` - system\n* `user` - user\n* `assistant` - assistant"
    )
    content: Any = Field(..., description="Text, or a list of content parts (OpenAI's format).")


class Credential(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    id: UUID
    name: str
    type: Literal[
        "http_basic",
        "http_bearer",
        "api_key",
        "oauth2_token",
        "smtp",
        "openai_compatible",
        "slack_webhook",
        "hmac_secret",
    ] = Field(
        ...,
        description="* `http_basic` - HTTP Basic auth\n* `http_bearer` - Bearer token\n* `api_key` - API key\n* `oauth2_token` - OAuth2 token\n* `smtp` - SMTP server\n* `openai_compatible` - OpenAI-compatible API\n* `slack_webhook` - Slack incoming webhook\n* `hmac_secret` - HMAC secret",
    )
    hint: str = Field(..., description="The last characters of the main secret, masked.")
    created_at: AwareDatetime
    updated_at: AwareDatetime
    last_used_at: Optional[AwareDatetime] = Field(...)


class CredentialInputRequest(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    name: str = Field(..., max_length=200, min_length=1)
    type: Literal[
        "http_basic",
        "http_bearer",
        "api_key",
        "oauth2_token",
        "smtp",
        "openai_compatible",
        "slack_webhook",
        "hmac_secret",
    ] = Field(
        ...,
        description="* `http_basic` - HTTP Basic auth\n* `http_bearer` - Bearer token\n* `api_key` - API key\n* `oauth2_token` - OAuth2 token\n* `smtp` - SMTP server\n* `openai_compatible` - OpenAI-compatible API\n* `slack_webhook` - Slack incoming webhook\n* `hmac_secret` - HMAC secret",
    )
    data: Any = Field(
        ...,
        description="The secret data, by type: http_basic {username, password, test_url?}; http_bearer {token, test_url?}; api_key {name, value, in: header|query, test_url?}; oauth2_token {access_token, refresh_token?, token_url?, client_id?, client_secret?, scope?, test_url?}; smtp {host, port, username?, password?, use_tls?, use_ssl?, from_email}; openai_compatible {base_url, api_key?, default_model?, organization?}; slack_webhook {url}; hmac_secret {secret}. Never returned.",
    )


class DefinitionInputRequest(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    definition: Union[WorkflowDefinition, SeedDefinition] = Field(
        ...,
        description="The workflow definition (canonical form, or a seed format).",
        examples=[
            {
                "nodes": [
                    {"id": "start", "type": "trigger.manual", "name": "Start", "config": {}},
                    {
                        "id": "fetch",
                        "type": "http_request",
                        "name": "Fetch the item",
                        "config": {"method": "GET", "url": "https://api.example.com/items/{{ input.item_id }}"},
                        "retry": {"max_attempts": 3, "backoff_seconds": 2},
                        "timeout_seconds": 30,
                    },
                    {
                        "id": "pricey",
                        "type": "condition",
                        "name": "Pricey?",
                        "config": {"expression": "{{ steps.fetch.output.body.price > 100 }}"},
                    },
                    {
                        "id": "out",
                        "type": "output",
                        "name": "Result",
                        "config": {"value": {"item": "{{ steps.fetch.output.body }}"}},
                    },
                ],
                "edges": [
                    {"id": "e1", "source": "start", "target": "fetch"},
                    {"id": "e2", "source": "fetch", "target": "pricey"},
                    {"id": "e3", "source": "pricey", "target": "out", "source_port": "true"},
                ],
                "variables": {},
                "settings": {"timeout_seconds": 3600, "on_error": "stop"},
            }
        ],
    )


class ExecuteInputRequest(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    input_data: Optional[Any] = Field(
        None, description="The trigger data: any JSON (at most 1 MB), checked against the trigger's input_schema."
    )
    mode: Literal["async", "sync"] = Field(
        "async",
        description="`async` answers 202 at once; `sync` waits for the result up to a bound (then answers 202).",
    )
    webhook_url: Optional[str] = Field(
        None, description="An http(s) URL called when the run ends.", max_length=2000, min_length=1
    )
    async_: Optional[bool] = Field(None, alias="async", description="`true`: mode async; `false`: mode sync.")


class ExecutionAccepted(BaseModel):
    """
    The short answer to starting a run: where to look for it.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    id: UUID = Field(..., description="The run's id (as in the full run; also `execution_id`).")
    execution_id: UUID
    workflow_id: UUID
    status: Literal["queued", "running", "waiting", "completed", "failed", "cancelled", "timed_out"]
    started_at: Optional[AwareDatetime] = Field(...)
    created_at: AwareDatetime
    input_data: Any


class ExecutionList(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    id: UUID
    workflow_id: UUID
    workflow_name: str
    workflow_version: int
    status: Literal["queued", "running", "waiting", "completed", "failed", "cancelled", "timed_out"]
    mode: Literal["live", "dry_run"]
    trigger: Literal["manual", "webhook", "schedule", "sub_workflow", "for_each", "retry", "rerun", "file", "test"]
    progress: int
    current_step: str
    started_at: Optional[AwareDatetime] = Field(...)
    completed_at: Optional[AwareDatetime] = Field(...)
    duration: Optional[float] = Field(..., description="Seconds from start to end.")
    created_at: AwareDatetime
    parent_id: Optional[UUID] = Field(...)
    retry_of_id: Optional[UUID] = Field(...)


class ExecutionLog(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    id: int
    node_id: str
    level: Literal["debug", "info", "warning", "error"]
    message: str
    data: Optional[Any] = Field(...)
    created_at: AwareDatetime


class Export(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    format: str
    format_version: int
    name: str
    description: str
    category: str
    tags: List[str]
    definition: WorkflowDefinition
    source: Dict[str, Any]
    exported_at: AwareDatetime


class File(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    id: UUID
    name: str = Field(..., description="The client's file name, made safe.")
    description: str
    content_type: str = Field(..., description="Sniffed from the bytes.")
    declared_content_type: str = Field(..., description="What the client said it is.")
    category: Literal["document", "image", "audio", "video", "data", "other"] = Field(
        ...,
        description="* `document` - Document\n* `image` - Image\n* `audio` - Audio\n* `video` - Video\n* `data` - Data\n* `other` - Other",
    )
    size: int
    sha256: str
    status: Literal["uploaded", "processing", "processed", "failed"] = Field(
        ...,
        description="* `uploaded` - Uploaded\n* `processing` - Processing\n* `processed` - Processed\n* `failed` - Failed",
    )
    workflow_id: Optional[UUID] = Field(...)
    execution_id: Optional[UUID] = Field(...)
    processing_result: Optional[Any] = Field(...)
    download_url: str
    created_at: AwareDatetime
    updated_at: AwareDatetime
    processed_at: Optional[AwareDatetime] = Field(...)


class Health(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    status: Literal["ok", "degraded", "unavailable"] = Field(
        ...,
        description="`unavailable` (503) when a critical dependency is down; `degraded` when only workers are missing.\n\n* `ok` - ok\n* `degraded` - degraded\n* `unavailable` - unavailable",
    )
    timestamp: AwareDatetime
    checks: Optional[Dict[str, HealthCheck]] = Field(None, description="Staff only.")


class MetricsAIUsage(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    available: bool = Field(..., description="false until the integrations app records AI usage")
    requests: int
    total_tokens: int
    cost: float
    providers: List[MetricsProviderUsage]
    models: List[MetricsModelUsage]


class MetricsApplication(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    mode: Literal["embedded", "production"] = Field(
        ..., description="* `embedded` - embedded\n* `production` - production"
    )
    requests: ApplicationRequests = Field(..., description="Answered by this process since it started.")
    users: Dict[str, int]
    api_keys_active: int
    audit_events_24h: int


class MetricsSystem(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    cpu_count: Optional[int] = Field(...)
    load_average: Optional[List[float]] = Field(...)
    memory: SystemMemory
    process: SystemProcess


class PaginatedAuditEventList(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    items: List[AuditEvent]
    total: int = Field(..., examples=[42])
    page: int = Field(..., examples=[1])
    size: int = Field(..., examples=[20])
    pages: int = Field(..., examples=[3])


class PaginatedCredentialList(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    items: List[Credential]
    total: int = Field(..., examples=[42])
    page: int = Field(..., examples=[1])
    size: int = Field(..., examples=[20])
    pages: int = Field(..., examples=[3])


class PaginatedExecutionListList(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    items: List[ExecutionList]
    total: int = Field(..., examples=[42])
    page: int = Field(..., examples=[1])
    size: int = Field(..., examples=[20])
    pages: int = Field(..., examples=[3])


class PaginatedExecutionLogList(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    items: List[ExecutionLog]
    total: int = Field(..., examples=[42])
    page: int = Field(..., examples=[1])
    size: int = Field(..., examples=[20])
    pages: int = Field(..., examples=[3])


class PaginatedFileList(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    items: List[File]
    total: int = Field(..., examples=[42])
    page: int = Field(..., examples=[1])
    size: int = Field(..., examples=[20])
    pages: int = Field(..., examples=[3])


class PaginatedShareList(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    items: List[Share]
    total: int = Field(..., examples=[42])
    page: int = Field(..., examples=[1])
    size: int = Field(..., examples=[20])
    pages: int = Field(..., examples=[3])


class PaginatedTemplateListList(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    items: List[TemplateList]
    total: int = Field(..., examples=[42])
    page: int = Field(..., examples=[1])
    size: int = Field(..., examples=[20])
    pages: int = Field(..., examples=[3])


class PaginatedWorkflowListList(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    items: List[WorkflowList]
    total: int = Field(..., examples=[42])
    page: int = Field(..., examples=[1])
    size: int = Field(..., examples=[20])
    pages: int = Field(..., examples=[3])


class PaginatedWorkflowVersionList(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    items: List[WorkflowVersion]
    total: int = Field(..., examples=[42])
    page: int = Field(..., examples=[1])
    size: int = Field(..., examples=[20])
    pages: int = Field(..., examples=[3])


class ParameterInputRequest(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    name: str = Field(..., description="Used in the definition as {{ name }}.", max_length=64, min_length=1)
    description: str = Field("", max_length=2000)
    parameter_type: Optional[Literal["string", "number", "boolean", "email", "url", "enum", "json"]] = Field(
        None,
        description="string, number, boolean, email, url, enum (with choices) or json.\n\n* `string` - String\n* `number` - Number\n* `boolean` - Boolean\n* `email` - Email\n* `url` - Url\n* `enum` - Enum\n* `json` - Json",
    )
    type: Optional[str] = Field(None, description="Alias of parameter_type.", max_length=16, min_length=1)
    is_required: bool = False
    default_value: Optional[Any] = None
    choices: Optional[List[Any]] = Field(None, max_length=100)


class ParseResult(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    definition: Any = Field(..., description="A definition that passes POST /workflows/validate.")
    confidence: float = Field(..., description="How much of the text was understood.", ge=0.0, le=1.0)
    warnings: List[ParseWarning]
    parser: Literal["builtin", "provider"] = Field(
        ..., description="Which parser answered.\n\n* `builtin` - builtin\n* `provider` - provider"
    )


class PatchedTemplateInputRequest(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    name: Optional[str] = Field(None, max_length=200, min_length=1)
    description: Optional[str] = Field(None, max_length=10000)
    category: Optional[str] = Field(None, max_length=50)
    definition: Optional[Any] = Field(None, description="A workflow definition with {{ parameter }} placeholders.")
    parameters: Optional[List[ParameterInputRequest]] = None
    companions: Optional[List[CompanionRequest]] = Field(
        None, description="Workflows created along with the main one (e.g. a for_each's child)."
    )
    is_active: Optional[bool] = None
    is_builtin: Optional[bool] = Field(
        None, description="Staff only: publish the template to everyone as a built-in one."
    )


class PatchedWebhookUpdateRequest(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    url: Optional[str] = Field(None, max_length=2000, min_length=1)
    events: Optional[
        List[
            Literal[
                "workflow.execution.started",
                "workflow.execution.completed",
                "workflow.execution.failed",
                "file.processing.completed",
                "user.quota.exceeded",
            ]
        ]
    ] = Field(
        None,
        description="Events to receive: `workflow.execution.started`, `workflow.execution.completed`, `workflow.execution.failed`, `file.processing.completed`, `user.quota.exceeded`.",
        max_length=10,
    )
    workflow: Optional[UUID] = Field(
        None, description="Only events of this workflow (one of yours): its runs and the files it processes."
    )
    description: Optional[str] = Field(None, max_length=200)
    is_active: Optional[bool] = Field(
        None, description="false pauses deliveries; true re-enables (and clears the failure count)."
    )


class SaveAsTemplateInputRequest(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    name: Optional[str] = Field(None, description="The workflow's name by default.", max_length=200, min_length=1)
    description: Optional[str] = Field(None, max_length=10000)
    category: Optional[str] = Field(None, max_length=50)
    parameters: Optional[List[ParameterInputRequest]] = None
    replace: Optional[Any] = Field(
        None,
        description='Literal values to turn into placeholders: {"literal": "parameter"} or [{"value": <any JSON>, "parameter": "name"}].',
    )


class Step(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    node_id: str
    node_type: str
    status: Literal["pending", "running", "retrying", "waiting", "completed", "failed", "skipped", "cancelled"]
    attempt: int
    started_at: Optional[AwareDatetime] = Field(...)
    completed_at: Optional[AwareDatetime] = Field(...)
    output: Optional[Any] = Field(...)
    error: Optional[Any] = Field(...)


class TemplateDetail(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    id: UUID
    key: Optional[str] = Field(..., description="Stable identifier of a built-in template.", pattern="^[-a-zA-Z0-9_]+$")
    name: str
    description: str
    category: str
    is_builtin: bool
    is_active: bool
    created_by: Optional[UUID] = Field(...)
    usage_count: int = Field(..., description="How many workflows were made from it.")
    parameter_count: int
    editable: bool = Field(..., description="Whether you may change or delete it.")
    created_at: AwareDatetime
    updated_at: AwareDatetime
    definition: Any
    parameters: List[TemplateParameter]
    companions: List[Companion]
    source_workflow: Optional[UUID] = Field(...)


class TemplateInputRequest(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    name: str = Field(..., max_length=200, min_length=1)
    description: Optional[str] = Field(None, max_length=10000)
    category: Optional[str] = Field(None, max_length=50)
    definition: Any = Field(..., description="A workflow definition with {{ parameter }} placeholders.")
    parameters: Optional[List[ParameterInputRequest]] = None
    companions: Optional[List[CompanionRequest]] = Field(
        None, description="Workflows created along with the main one (e.g. a for_each's child)."
    )
    is_active: Optional[bool] = None
    is_builtin: Optional[bool] = Field(
        None, description="Staff only: publish the template to everyone as a built-in one."
    )


class TokenPair(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    access_token: str
    refresh_token: Optional[str] = Field(...)
    token_type: str
    expires_in: int = Field(..., description="Seconds until the access token expires.")
    user: User


class Trigger(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    type: Literal["manual", "webhook", "schedule"] = Field(
        ..., description="* `manual` - manual\n* `webhook` - webhook\n* `schedule` - schedule"
    )
    url: Optional[str] = Field(
        None, description="Webhooks: the absolute URL that starts a run; shown to whoever may run the workflow."
    )
    method: Optional[str] = Field(None, description="Webhooks: the HTTP method the URL accepts.")
    respond: Optional[Literal["immediately", "when_done"]] = Field(
        None, description="* `immediately` - immediately\n* `when_done` - when_done"
    )
    signed: Optional[bool] = Field(None, description="Webhooks: requests must carry an HMAC signature.")
    cron: Optional[str] = None
    timezone: Optional[str] = None
    next_run_at: Optional[AwareDatetime] = Field(
        None, description="Schedules: the next tick, in the schedule's time zone; null when paused."
    )


class Webhook(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    id: UUID
    url: str
    description: str
    events: List[
        Literal[
            "workflow.execution.started",
            "workflow.execution.completed",
            "workflow.execution.failed",
            "file.processing.completed",
            "user.quota.exceeded",
        ]
    ]
    workflow: Optional[UUID] = Field(...)
    is_active: bool
    secret_hint: str
    failure_count: int = Field(..., description="Failed attempts in a row (0 after a success).")
    disabled_at: Optional[AwareDatetime] = Field(..., description="When repeated failures disabled it.")
    disabled_reason: str
    last_success_at: Optional[AwareDatetime] = Field(...)
    last_failure_at: Optional[AwareDatetime] = Field(...)
    created_at: AwareDatetime
    updated_at: AwareDatetime


class WebhookDelivery(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    id: UUID
    delivery_id: UUID = Field(..., description="Shared by the attempts of an event.")
    subscription: Optional[UUID] = Field(...)
    execution: Optional[UUID] = Field(...)
    event: Literal[
        "workflow.execution.started",
        "workflow.execution.completed",
        "workflow.execution.failed",
        "file.processing.completed",
        "user.quota.exceeded",
        "ping",
    ]
    url: str = Field(..., description="Where this attempt was (or will be) sent.")
    attempt: int
    status: Literal["pending", "succeeded", "retrying", "given_up", "failed"]
    response_status: Optional[int] = Field(...)
    response_time_ms: Optional[int] = Field(...)
    response_body: str = Field(..., description="The start of the answer (truncated).")
    error: str
    next_attempt_at: Optional[AwareDatetime] = Field(
        ..., description="Pending: when it is due. Retrying: when the next attempt is."
    )
    payload: Any
    attempted_at: Optional[AwareDatetime] = Field(...)
    completed_at: Optional[AwareDatetime] = Field(...)
    created_at: AwareDatetime


class WorkflowCreated(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    id: UUID
    name: str
    description: str
    category: str
    tags: List[str]
    is_active: bool
    version: int = Field(..., description="Number of the current definition version.")
    created_by: UUID
    owner_email: str
    shared_role: Optional[str] = Field(...)
    execution_count: int
    last_execution_at: Optional[AwareDatetime] = Field(...)
    created_at: AwareDatetime
    updated_at: AwareDatetime
    definition: WorkflowDefinition
    trigger: Trigger
    execution_stats: ExecutionStats
    permissions: List[str]
    warnings: List[Problem]


class WorkflowDetail(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    id: UUID
    name: str
    description: str
    category: str
    tags: List[str]
    is_active: bool
    version: int = Field(..., description="Number of the current definition version.")
    created_by: UUID
    owner_email: str
    shared_role: Optional[str] = Field(...)
    execution_count: int
    last_execution_at: Optional[AwareDatetime] = Field(...)
    created_at: AwareDatetime
    updated_at: AwareDatetime
    definition: WorkflowDefinition
    trigger: Trigger
    execution_stats: ExecutionStats
    permissions: List[str]


class WorkflowInputRequest(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    name: str = Field(..., max_length=200, min_length=1)
    description: Optional[str] = Field(None, max_length=10000)
    category: Optional[str] = Field(None, max_length=50)
    tags: Optional[List[Tag]] = Field(None, max_length=20)
    is_active: Optional[bool] = None
    definition: Union[WorkflowDefinition, SeedDefinition] = Field(
        ...,
        description="The definition (canonical form or a seed format).",
        examples=[
            {
                "nodes": [
                    {"id": "start", "type": "trigger.manual", "name": "Start", "config": {}},
                    {
                        "id": "fetch",
                        "type": "http_request",
                        "name": "Fetch the item",
                        "config": {"method": "GET", "url": "https://api.example.com/items/{{ input.item_id }}"},
                        "retry": {"max_attempts": 3, "backoff_seconds": 2},
                        "timeout_seconds": 30,
                    },
                    {
                        "id": "pricey",
                        "type": "condition",
                        "name": "Pricey?",
                        "config": {"expression": "{{ steps.fetch.output.body.price > 100 }}"},
                    },
                    {
                        "id": "out",
                        "type": "output",
                        "name": "Result",
                        "config": {"value": {"item": "{{ steps.fetch.output.body }}"}},
                    },
                ],
                "edges": [
                    {"id": "e1", "source": "start", "target": "fetch"},
                    {"id": "e2", "source": "fetch", "target": "pricey"},
                    {"id": "e3", "source": "pricey", "target": "out", "source_port": "true"},
                ],
                "variables": {},
                "settings": {"timeout_seconds": 3600, "on_error": "stop"},
            }
        ],
    )
    workflow_data: Optional[Union[WorkflowDefinition, SeedDefinition]] = Field(
        None,
        description="The seed documents' name for `definition` (an alias).",
        examples=[
            {
                "nodes": [
                    {"id": "start", "type": "trigger.manual", "name": "Start", "config": {}},
                    {
                        "id": "fetch",
                        "type": "http_request",
                        "name": "Fetch the item",
                        "config": {"method": "GET", "url": "https://api.example.com/items/{{ input.item_id }}"},
                        "retry": {"max_attempts": 3, "backoff_seconds": 2},
                        "timeout_seconds": 30,
                    },
                    {
                        "id": "pricey",
                        "type": "condition",
                        "name": "Pricey?",
                        "config": {"expression": "{{ steps.fetch.output.body.price > 100 }}"},
                    },
                    {
                        "id": "out",
                        "type": "output",
                        "name": "Result",
                        "config": {"value": {"item": "{{ steps.fetch.output.body }}"}},
                    },
                ],
                "edges": [
                    {"id": "e1", "source": "start", "target": "fetch"},
                    {"id": "e2", "source": "fetch", "target": "pricey"},
                    {"id": "e3", "source": "pricey", "target": "out", "source_port": "true"},
                ],
                "variables": {},
                "settings": {"timeout_seconds": 3600, "on_error": "stop"},
            }
        ],
    )
    version: Optional[int] = Field(None, description="The version your change is based on; a stale one gets 409.", ge=1)


class WorkflowVersionDetail(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    number: int
    note: str
    author: Optional[str] = Field(...)
    created_at: AwareDatetime
    definition: WorkflowDefinition


class AIChatInputRequest(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    messages: List[ChatMessageRequest]
    model: Optional[str] = Field(None, max_length=200, min_length=1)
    credential_id: Optional[UUID] = None
    temperature: Optional[float] = Field(None, ge=0.0, le=2.0)
    max_tokens: Optional[int] = Field(None, ge=1, le=128000)
    response_format: Optional[Dict[str, Any]] = None


class ExecutionDetail(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    id: UUID
    workflow_id: UUID
    workflow_name: str
    workflow_version: int
    status: Literal["queued", "running", "waiting", "completed", "failed", "cancelled", "timed_out"]
    mode: Literal["live", "dry_run"]
    trigger: Literal["manual", "webhook", "schedule", "sub_workflow", "for_each", "retry", "rerun", "file", "test"]
    progress: int
    current_step: str
    started_at: Optional[AwareDatetime] = Field(...)
    completed_at: Optional[AwareDatetime] = Field(...)
    duration: Optional[float] = Field(..., description="Seconds from start to end.")
    created_at: AwareDatetime
    parent_id: Optional[UUID] = Field(...)
    retry_of_id: Optional[UUID] = Field(...)
    input_data: Any
    output_data: Optional[Any] = Field(...)
    error: Optional[Any] = Field(...)
    idempotency_key: Optional[str] = Field(...)
    triggered_by: Optional[str] = Field(...)
    steps: List[Step] = Field(..., description="In definition order.")


class InstantiatedWorkflow(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    id: UUID
    name: str
    description: str
    category: str
    tags: List[str]
    is_active: bool
    version: int = Field(..., description="Number of the current definition version.")
    created_by: UUID
    owner_email: str
    shared_role: Optional[str] = Field(...)
    execution_count: int
    last_execution_at: Optional[AwareDatetime] = Field(...)
    created_at: AwareDatetime
    updated_at: AwareDatetime
    definition: WorkflowDefinition
    trigger: Trigger
    execution_stats: ExecutionStats
    permissions: List[str]
    warnings: List[Problem]
    template_id: UUID
    companion_workflows: List[CompanionWorkflow]


class Metrics(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    timestamp: AwareDatetime
    system: MetricsSystem
    application: MetricsApplication
    workflows: WorkflowMetrics
    ai_usage: MetricsAIUsage = Field(..., description="The last 24 hours.")


class PaginatedWebhookDeliveryList(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    items: List[WebhookDelivery]
    total: int = Field(..., examples=[42])
    page: int = Field(..., examples=[1])
    size: int = Field(..., examples=[20])
    pages: int = Field(..., examples=[3])


class PaginatedWebhookList(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    items: List[Webhook]
    total: int = Field(..., examples=[42])
    page: int = Field(..., examples=[1])
    size: int = Field(..., examples=[20])
    pages: int = Field(..., examples=[3])


class ExecuteResult(RootModel[Union[ExecutionDetail, ExecutionAccepted]]):
    root: Union[ExecutionDetail, ExecutionAccepted]
