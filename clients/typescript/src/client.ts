/**
 * The Flowbuilder client: `fetch` for the REST API, `WebSocket` for live updates
 * (the global one in browsers and Node 22+, the `ws` package on Node 20).
 */
import {
  APIConnectionError,
  AuthenticationError,
  NotFoundError,
  StreamError,
  WaitTimeoutError,
  errorFromResponse,
  retryAfterSeconds,
} from "./errors.js";
import type { components } from "./schema.js";

type S = components["schemas"];
export type WorkflowList = S["WorkflowList"];
export type WorkflowCreated = S["WorkflowCreated"];
export type WorkflowDetail = S["WorkflowDetail"];
export type WorkflowVersion = S["WorkflowVersion"];
export type WorkflowVersionDetail = S["WorkflowVersionDetail"];
export type ExecutionList = S["ExecutionList"];
export type ExecutionDetail = S["ExecutionDetail"];
export type ExecutionAccepted = S["ExecutionAccepted"];
export type ExecutionLog = S["ExecutionLog"];
export type ExecuteResult = ExecutionDetail | ExecutionAccepted;
export type TokenPair = S["TokenPair"];
export type User = S["User"];
export type ApiKey = S["ApiKey"];
export type ApiKeyCreated = S["ApiKeyCreated"];
export type Credential = S["Credential"];
export type CredentialType = S["CredentialType"];
export type Integration = S["Integration"];
export type Webhook = S["Webhook"];
export type WebhookWithSecret = S["WebhookWithSecret"];
export type WebhookDelivery = S["WebhookDelivery"];
export type TemplateList = S["TemplateList"];
export type TemplateDetail = S["TemplateDetail"];
export type InstantiatedWorkflow = S["InstantiatedWorkflow"];
export type FlowbuilderFile = S["File"];
export type ValidationResult = S["ValidationResult"];
export type Export = S["Export"];
export type ParseResult = S["ParseResult"];
export type Health = S["Health"];
export type Metrics = S["Metrics"];
export type AuditEvent = S["AuditEvent"];
export type NodeType = S["NodeType"];
export type Share = S["Share"];

/** A message of a live socket (SPEC §4): a `snapshot` first, then updates; the last is
 * `execution_completed` (`data.output_data`) or `execution_failed` (`data.error`). */
export interface ExecutionEvent {
  type: string;
  execution_id?: string;
  workflow_id?: string;
  status?: string;
  progress?: number;
  current_step?: string;
  node_id?: string;
  data?: Record<string, unknown>;
  timestamp?: string;
  [key: string]: unknown;
}

export interface FlowbuilderOptions {
  /** Default: `FLOWBUILDER_URL` (in Node), else `http://localhost:8000`. */
  baseUrl?: string;
  /** An API key (`fbk_…`), sent as `X-API-Key`. Default: `FLOWBUILDER_API_KEY` (in Node). */
  apiKey?: string;
  /** A JWT access token (`auth.login` sets one). Default: `FLOWBUILDER_TOKEN` (in Node). */
  token?: string;
  /** Per request, in milliseconds (default 30 000). */
  timeoutMs?: number;
  /** Retries of 429, 503 and failed connections (default 2). */
  maxRetries?: number;
  /** A `Retry-After` longer than this is thrown, not waited out (default 30 000 ms). */
  maxRetryWaitMs?: number;
  headers?: Record<string, string>;
  fetch?: typeof fetch;
}

export interface RequestOptions {
  query?: Record<string, unknown>;
  body?: unknown;
  form?: FormData;
  headers?: Record<string, string>;
}

type Fields = Record<string, unknown>;

const API = "/api/v1";
const PAGE_SIZE = 100;
export const FINISHED = new Set(["completed", "failed", "cancelled", "timed_out"]);
const IDEMPOTENT = new Set(["GET", "HEAD", "OPTIONS", "PUT", "DELETE"]);
// Errors that mean the request never reached the server (safe to send again whatever it was).
const NOT_SENT = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "UND_ERR_CONNECT_TIMEOUT"]);

function fromEnv(name: string): string | undefined {
  const proc = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process;
  return proc?.env?.[name] || undefined;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function backoffMs(attempt: number): number {
  return Math.min(8000, 500 * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2);
}

/** `inputData` → `input_data`: the options' own keys only, never the values inside them. */
function snakeKeys(fields: Fields): Fields {
  const out: Fields = {};
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    out[key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)] = value;
  }
  return out;
}

function query(params: Record<string, unknown> | undefined): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params ?? {})) {
    if (value === undefined || value === null) continue;
    for (const v of Array.isArray(value) ? value : [value]) search.append(key, String(v));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

function errorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; current && depth < 4; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string") return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

abstract class Resource {
  constructor(protected readonly client: Flowbuilder) {}

  protected async *pages<T>(path: string, filters: Fields = {}): AsyncGenerator<T> {
    for (let page = 1; ; page++) {
      const body = await this.client.request<{ items: T[]; pages: number }>("GET", API + path, {
        query: { ...snakeKeys(filters), page, size: PAGE_SIZE },
      });
      yield* body.items;
      if (body.items.length === 0 || page >= body.pages) return;
    }
  }
}

export class Auth extends Resource {
  register(fields: { email: string; password: string; firstName?: string; lastName?: string; company?: string; fullName?: string }): Promise<User> {
    return this.client.request("POST", `${API}/auth/register`, { body: snakeKeys(fields) });
  }
  /** Log in; the client uses the access token from then on. */
  async login(email: string, password: string): Promise<TokenPair> {
    const pair = await this.client.request<TokenPair>("POST", `${API}/auth/login`, { body: { email, password } });
    this.client.token = pair.access_token;
    return pair;
  }
  async refresh(refreshToken: string): Promise<TokenPair> {
    const pair = await this.client.request<TokenPair>("POST", `${API}/auth/refresh`, { body: { refresh_token: refreshToken } });
    this.client.token = pair.access_token;
    return pair;
  }
  async logout(refreshToken: string): Promise<void> {
    await this.client.request("POST", `${API}/auth/logout`, { body: { refresh_token: refreshToken } });
  }
  me(): Promise<User> {
    return this.client.request("GET", `${API}/auth/me`);
  }
  async changePassword(currentPassword: string, newPassword: string): Promise<void> {
    await this.client.request("POST", `${API}/auth/password`, { body: { current_password: currentPassword, new_password: newPassword } });
  }
  async guest(): Promise<TokenPair> {
    const pair = await this.client.request<TokenPair>("POST", `${API}/auth/guest`);
    this.client.token = pair.access_token;
    return pair;
  }
  crossSystemToken(targetSystem: string, permissions: string[]): Promise<S["CrossSystemToken"]> {
    return this.client.request("POST", `${API}/auth/cross-system-token`, { body: { target_system: targetSystem, permissions } });
  }
  user(userId: string): Promise<User> {
    return this.client.request("GET", `${API}/users/${userId}`);
  }
}

export class ApiKeys extends Resource {
  list(): AsyncGenerator<ApiKey> {
    return this.pages("/api-keys");
  }
  create(options: { name: string; scopes?: string[]; expiresAt?: string }): Promise<ApiKeyCreated> {
    return this.client.request("POST", `${API}/api-keys`, { body: snakeKeys(options) });
  }
  async delete(keyId: string): Promise<void> {
    await this.client.request("DELETE", `${API}/api-keys/${keyId}`);
  }
}

export interface WorkflowFields {
  name?: string;
  definition?: unknown;
  /** Seed 002's name for `definition`. */
  workflowData?: unknown;
  description?: string;
  category?: string;
  tags?: string[];
  isActive?: boolean;
  version?: number;
  [key: string]: unknown;
}

export interface ExecuteOptions {
  inputData?: unknown;
  mode?: "async" | "sync";
  webhookUrl?: string;
  /** Default: a new key per call, so a retried request never starts a second run. */
  idempotencyKey?: string;
}

export class Workflows extends Resource {
  /** Every workflow you can see; filters: `search`, `category`, `tag`, `isActive`, `ordering`. */
  list(filters: Fields = {}): AsyncGenerator<WorkflowList> {
    return this.pages("/workflows", filters);
  }
  create(fields: WorkflowFields & { name: string }): Promise<WorkflowCreated> {
    return this.client.request("POST", `${API}/workflows`, { body: snakeKeys(fields) });
  }
  get(workflowId: string): Promise<WorkflowDetail> {
    return this.client.request("GET", `${API}/workflows/${workflowId}`);
  }
  /** Change some fields (PATCH); pass `version` to get a ConflictError if someone changed it meanwhile. */
  update(workflowId: string, fields: WorkflowFields): Promise<WorkflowDetail> {
    return this.client.request("PATCH", `${API}/workflows/${workflowId}`, { body: snakeKeys(fields) });
  }
  replace(workflowId: string, fields: WorkflowFields & { name: string }): Promise<WorkflowDetail> {
    return this.client.request("PUT", `${API}/workflows/${workflowId}`, { body: snakeKeys(fields) });
  }
  async delete(workflowId: string): Promise<void> {
    await this.client.request("DELETE", `${API}/workflows/${workflowId}`);
  }
  /** Start a run. `mode: "sync"` waits (up to the server's bound) and answers the finished run. */
  execute(workflowId: string, options: ExecuteOptions = {}): Promise<ExecuteResult> {
    const { idempotencyKey, ...fields } = options;
    return this.client.request("POST", `${API}/workflows/${workflowId}/execute`, {
      body: snakeKeys(fields),
      headers: { "Idempotency-Key": idempotencyKey ?? `sdk-${crypto.randomUUID()}` },
    });
  }
  executions(workflowId: string, filters: Fields = {}): AsyncGenerator<ExecutionList> {
    return this.pages(`/workflows/${workflowId}/executions`, filters);
  }
  validate(definition: unknown): Promise<ValidationResult> {
    return this.client.request("POST", `${API}/workflows/validate`, { body: { definition } });
  }
  /** Import an export (`workflows.export`'s answer) as a new workflow. */
  import(data: unknown, options: { name?: string; isActive?: boolean } = {}): Promise<WorkflowCreated> {
    return this.client.request("POST", `${API}/workflows/import`, { body: { data, ...snakeKeys(options) } });
  }
  export(workflowId: string): Promise<Export> {
    return this.client.request("GET", `${API}/workflows/${workflowId}/export`);
  }
  versions(workflowId: string): AsyncGenerator<WorkflowVersion> {
    return this.pages(`/workflows/${workflowId}/versions`);
  }
  version(workflowId: string, number: number): Promise<WorkflowVersionDetail> {
    return this.client.request("GET", `${API}/workflows/${workflowId}/versions/${number}`);
  }
  restoreVersion(workflowId: string, number: number): Promise<WorkflowDetail> {
    return this.client.request("POST", `${API}/workflows/${workflowId}/versions/${number}/restore`);
  }
  shares(workflowId: string): AsyncGenerator<Share> {
    return this.pages(`/workflows/${workflowId}/shares`);
  }
  share(workflowId: string, email: string, role?: string): Promise<Share> {
    return this.client.request("POST", `${API}/workflows/${workflowId}/shares`, { body: { email, role } });
  }
  async unshare(workflowId: string, userId: string): Promise<void> {
    await this.client.request("DELETE", `${API}/workflows/${workflowId}/shares/${userId}`);
  }
  saveAsTemplate(workflowId: string, fields: Fields = {}): Promise<TemplateDetail> {
    return this.client.request("POST", `${API}/workflows/${workflowId}/save-as-template`, { body: snakeKeys(fields) });
  }
  regenerateWebhook(workflowId: string): Promise<WorkflowDetail> {
    return this.client.request("POST", `${API}/workflows/${workflowId}/webhook/regenerate`);
  }
}

export class Executions extends Resource {
  /** Every run you can see; filters: `status`, `workflow`, `trigger`, `mode`, `startedAfter`, ... */
  list(filters: Fields = {}): AsyncGenerator<ExecutionList> {
    return this.pages("/executions", filters);
  }
  get(executionId: string): Promise<ExecutionDetail> {
    return this.client.request("GET", `${API}/executions/${executionId}`);
  }
  /** Poll until the run has ended and answer it; throws WaitTimeoutError after `timeoutMs` (default 60 s). */
  async wait(executionId: string, options: { timeoutMs?: number; pollIntervalMs?: number } = {}): Promise<ExecutionDetail> {
    const deadline = Date.now() + (options.timeoutMs ?? 60_000);
    let interval = 50;
    for (;;) {
      const execution = await this.get(executionId);
      if (FINISHED.has(execution.status)) return execution;
      if (Date.now() >= deadline) {
        throw new WaitTimeoutError(`Run ${executionId} is still ${execution.status} after ${options.timeoutMs ?? 60_000} ms`, execution);
      }
      await sleep(Math.min(interval, Math.max(0, deadline - Date.now())));
      interval = Math.min(interval * 2, options.pollIntervalMs ?? 500);
    }
  }
  /** The run's live messages: a snapshot first, then updates; ends after the last one. */
  stream(executionId: string): AsyncGenerator<ExecutionEvent> {
    return this.client.socket(`executions/${executionId}/`, `No run ${executionId} you may follow`);
  }
  /** The run's log lines, oldest first; filters: `level`, `nodeId`. */
  logs(executionId: string, filters: Fields = {}): AsyncGenerator<ExecutionLog> {
    return this.pages(`/executions/${executionId}/logs`, filters);
  }
  cancel(executionId: string): Promise<ExecutionDetail> {
    return this.client.request("POST", `${API}/executions/${executionId}/cancel`);
  }
  retry(executionId: string): Promise<ExecutionAccepted> {
    return this.client.request("POST", `${API}/executions/${executionId}/retry`);
  }
  rerun(executionId: string): Promise<ExecutionAccepted> {
    return this.client.request("POST", `${API}/executions/${executionId}/rerun`);
  }
  approve(executionId: string, nodeId: string, comment?: string): Promise<ExecutionDetail> {
    return this.client.request("POST", `${API}/executions/${executionId}/steps/${nodeId}/approve`, { body: { comment } });
  }
  reject(executionId: string, nodeId: string, comment?: string): Promise<ExecutionDetail> {
    return this.client.request("POST", `${API}/executions/${executionId}/steps/${nodeId}/reject`, { body: { comment } });
  }
}

export class Credentials extends Resource {
  list(filters: Fields = {}): AsyncGenerator<Credential> {
    return this.pages("/credentials", filters);
  }
  create(fields: { name: string; type: string; data: Record<string, unknown> }): Promise<Credential> {
    return this.client.request("POST", `${API}/credentials`, { body: fields });
  }
  get(credentialId: string): Promise<Credential> {
    return this.client.request("GET", `${API}/credentials/${credentialId}`);
  }
  update(credentialId: string, fields: { name?: string; data?: Record<string, unknown> }): Promise<Credential> {
    return this.client.request("PATCH", `${API}/credentials/${credentialId}`, { body: fields });
  }
  async delete(credentialId: string): Promise<void> {
    await this.client.request("DELETE", `${API}/credentials/${credentialId}`);
  }
  test(credentialId: string, options: { post?: boolean } = {}): Promise<S["CredentialTestResult"]> {
    return this.client.request("POST", `${API}/credentials/${credentialId}/test`, { body: options });
  }
  types(): Promise<CredentialType[]> {
    return this.client.request("GET", `${API}/credential-types`);
  }
}

export class Integrations extends Resource {
  list(): AsyncGenerator<Integration> {
    return this.pages("/integrations");
  }
  create(fields: { type: string; name: string; settings?: Record<string, unknown>; credential?: string }): Promise<Integration> {
    return this.client.request("POST", `${API}/integrations`, { body: fields });
  }
  get(integrationId: string): Promise<Integration> {
    return this.client.request("GET", `${API}/integrations/${integrationId}`);
  }
  update(integrationId: string, fields: Fields): Promise<Integration> {
    return this.client.request("PATCH", `${API}/integrations/${integrationId}`, { body: snakeKeys(fields) });
  }
  async delete(integrationId: string): Promise<void> {
    await this.client.request("DELETE", `${API}/integrations/${integrationId}`);
  }
}

/** Outgoing webhooks: URLs the server calls, signed, when events happen. */
export class Webhooks extends Resource {
  list(): AsyncGenerator<Webhook> {
    return this.pages("/webhooks");
  }
  create(fields: { url: string; events: string[]; workflow?: string; description?: string }): Promise<WebhookWithSecret> {
    return this.client.request("POST", `${API}/webhooks`, { body: fields });
  }
  get(webhookId: string): Promise<Webhook> {
    return this.client.request("GET", `${API}/webhooks/${webhookId}`);
  }
  update(webhookId: string, fields: Fields): Promise<Webhook> {
    return this.client.request("PATCH", `${API}/webhooks/${webhookId}`, { body: snakeKeys(fields) });
  }
  async delete(webhookId: string): Promise<void> {
    await this.client.request("DELETE", `${API}/webhooks/${webhookId}`);
  }
  deliveries(webhookId: string, filters: Fields = {}): AsyncGenerator<WebhookDelivery> {
    return this.pages(`/webhooks/${webhookId}/deliveries`, filters);
  }
  rotateSecret(webhookId: string): Promise<WebhookWithSecret> {
    return this.client.request("POST", `${API}/webhooks/${webhookId}/rotate-secret`);
  }
  test(webhookId: string): Promise<WebhookDelivery> {
    return this.client.request("POST", `${API}/webhooks/${webhookId}/test`);
  }
  runDeliveries(filters: Fields = {}): AsyncGenerator<WebhookDelivery> {
    return this.pages("/webhooks/run-deliveries", filters);
  }
  signingSecret(): Promise<S["SigningSecret"]> {
    return this.client.request("GET", `${API}/webhooks/signing-secret`);
  }
  createSigningSecret(): Promise<S["SigningSecretWithSecret"]> {
    return this.client.request("POST", `${API}/webhooks/signing-secret`);
  }
}

export class Templates extends Resource {
  list(filters: Fields = {}): AsyncGenerator<TemplateList> {
    return this.pages("/templates", filters);
  }
  get(templateId: string): Promise<TemplateDetail> {
    return this.client.request("GET", `${API}/templates/${templateId}`);
  }
  create(fields: { name: string; definition: unknown } & Fields): Promise<TemplateDetail> {
    return this.client.request("POST", `${API}/templates`, { body: snakeKeys(fields) });
  }
  update(templateId: string, fields: Fields): Promise<TemplateDetail> {
    return this.client.request("PATCH", `${API}/templates/${templateId}`, { body: snakeKeys(fields) });
  }
  async delete(templateId: string): Promise<void> {
    await this.client.request("DELETE", `${API}/templates/${templateId}`);
  }
  /** A new workflow from the template, with its parameters filled in. */
  instantiate(
    templateId: string,
    options: { name?: string; description?: string; parameterValues?: Record<string, unknown>; isActive?: boolean; tags?: string[] } = {},
  ): Promise<InstantiatedWorkflow> {
    return this.client.request("POST", `${API}/templates/${templateId}/instantiate`, { body: snakeKeys(options) });
  }
}

export interface UploadOptions {
  filename?: string;
  contentType?: string;
  description?: string;
  workflowId?: string;
  processImmediately?: boolean;
}

export class Files extends Resource {
  list(filters: Fields = {}): AsyncGenerator<FlowbuilderFile> {
    return this.pages("/files", filters);
  }
  /** Upload a Blob, bytes, or (in Node) a file path; with `workflowId` the file can start a run. */
  async upload(file: Blob | Uint8Array | string, options: UploadOptions = {}): Promise<FlowbuilderFile> {
    let blob: Blob;
    let filename = options.filename;
    if (typeof file === "string") {
      const { readFile } = await import("node:fs/promises");
      const { basename } = await import("node:path");
      blob = new Blob([new Uint8Array(await readFile(file))], { type: options.contentType ?? "application/octet-stream" });
      filename ??= basename(file);
    } else if (file instanceof Uint8Array) {
      blob = new Blob([new Uint8Array(file)], { type: options.contentType ?? "application/octet-stream" });
    } else {
      blob = file;
    }
    const form = new FormData();
    form.append("file", blob, filename ?? "upload");
    if (options.description !== undefined) form.append("description", options.description);
    if (options.workflowId !== undefined) form.append("workflow_id", options.workflowId);
    if (options.processImmediately !== undefined) form.append("process_immediately", String(options.processImmediately));
    return this.client.request("POST", `${API}/files/upload`, { form });
  }
  get(fileId: string): Promise<FlowbuilderFile> {
    return this.client.request("GET", `${API}/files/${fileId}`);
  }
  async download(fileId: string): Promise<Uint8Array> {
    const response = await this.client.request<Response>("GET", `${API}/files/${fileId}/download`, { headers: { Accept: "*/*" } }, true);
    return new Uint8Array(await response.arrayBuffer());
  }
  async delete(fileId: string): Promise<void> {
    await this.client.request("DELETE", `${API}/files/${fileId}`);
  }
  process(fileId: string, options: { workflowId?: string; inputData?: unknown } = {}): Promise<FlowbuilderFile> {
    return this.client.request("POST", `${API}/files/${fileId}/process`, { body: snakeKeys(options) });
  }
}

export class AI extends Resource {
  chat(options: { messages: Array<Record<string, unknown>> } & Fields): Promise<S["AIChatResult"]> {
    return this.client.request("POST", `${API}/ai/chat`, { body: snakeKeys(options) });
  }
  analyzeImage(options: { prompt: string } & Fields): Promise<S["AIImageAnalyzeResult"]> {
    return this.client.request("POST", `${API}/ai/image/analyze`, { body: snakeKeys(options) });
  }
  generateImage(options: { prompt: string } & Fields): Promise<S["AIImageGenerateResult"]> {
    return this.client.request("POST", `${API}/ai/image/generate`, { body: snakeKeys(options) });
  }
}

export class Analytics extends Resource {
  usage(period: { from?: string; to?: string; user?: string } = {}): Promise<S["AnalyticsUsage"]> {
    return this.client.request("GET", `${API}/analytics/usage`, { query: period });
  }
  costs(period: { from?: string; to?: string; user?: string } = {}): Promise<S["AnalyticsCosts"]> {
    return this.client.request("GET", `${API}/analytics/costs`, { query: period });
  }
  workflows(period: { from?: string; to?: string; user?: string } = {}): AsyncGenerator<S["AnalyticsWorkflow"]> {
    return this.pages("/analytics/workflows", period);
  }
}

export class Monitoring extends Resource {
  health(): Promise<Health> {
    return this.client.request("GET", `${API}/monitoring/health`);
  }
  metrics(): Promise<Metrics> {
    return this.client.request("GET", `${API}/monitoring/metrics`);
  }
}

export class Audit extends Resource {
  list(filters: Fields = {}): AsyncGenerator<AuditEvent> {
    return this.pages("/audit", filters);
  }
}

export class NodeTypes extends Resource {
  list(category?: string): Promise<NodeType[]> {
    return this.client.request("GET", `${API}/node-types`, { query: { category } });
  }
}

/** Drafting and dry runs: nothing here has side effects. */
export class Test extends Resource {
  /** Draft a workflow definition from a plain-English description. */
  parse(text: string): Promise<ParseResult> {
    return this.client.request("POST", `${API}/test/parse`, { body: { text } });
  }
  /** Dry-run a workflow: side effects are simulated. */
  execute(workflowId: string, options: { triggerData?: unknown } = {}): Promise<ExecuteResult> {
    return this.client.request("POST", `${API}/test/execute/${workflowId}`, { body: snakeKeys(options) });
  }
}

/**
 * A client of one Flowbuilder server. Answers 429 and 503 and failed connections are retried
 * `maxRetries` times with backoff, honouring `Retry-After`; a request that may have reached the
 * server is sent again only if that is harmless (GET, PUT, DELETE, or a POST with an
 * `Idempotency-Key`, which every execute carries).
 */
export class Flowbuilder {
  readonly baseUrl: string;
  apiKey: string | undefined;
  token: string | undefined;
  readonly timeoutMs: number;
  readonly maxRetries: number;
  readonly maxRetryWaitMs: number;
  private readonly headers: Record<string, string>;
  private readonly fetchImpl: typeof fetch;

  readonly auth = new Auth(this);
  readonly apiKeys = new ApiKeys(this);
  readonly workflows = new Workflows(this);
  readonly executions = new Executions(this);
  readonly credentials = new Credentials(this);
  readonly integrations = new Integrations(this);
  readonly webhooks = new Webhooks(this);
  readonly templates = new Templates(this);
  readonly files = new Files(this);
  readonly ai = new AI(this);
  readonly analytics = new Analytics(this);
  readonly monitoring = new Monitoring(this);
  readonly audit = new Audit(this);
  readonly nodeTypes = new NodeTypes(this);
  readonly test = new Test(this);

  constructor(options: FlowbuilderOptions = {}) {
    let base = (options.baseUrl ?? fromEnv("FLOWBUILDER_URL") ?? "http://localhost:8000").replace(/\/+$/, "");
    if (base.endsWith(API)) base = base.slice(0, -API.length);
    this.baseUrl = base;
    const explicit = options.apiKey !== undefined || options.token !== undefined;
    this.apiKey = explicit ? options.apiKey : fromEnv("FLOWBUILDER_API_KEY");
    this.token = explicit ? options.token : fromEnv("FLOWBUILDER_TOKEN");
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.maxRetries = options.maxRetries ?? 2;
    this.maxRetryWaitMs = options.maxRetryWaitMs ?? 30_000;
    this.headers = options.headers ?? {};
    this.fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
  }

  private authHeaders(): Record<string, string> {
    if (this.token) return { Authorization: `Bearer ${this.token}` };
    if (this.apiKey) return { "X-API-Key": this.apiKey };
    return {};
  }

  /** Send one API request (`path` from the server's root, e.g. `/api/v1/workflows`) with retries;
   * answers the parsed JSON (undefined for 204), or throws the matching APIError. */
  async request<T = unknown>(method: string, path: string, options: RequestOptions = {}, raw = false): Promise<T> {
    const headers: Record<string, string> = { Accept: "application/json", ...this.headers, ...this.authHeaders(), ...options.headers };
    let body: BodyInit | undefined;
    if (options.form) {
      body = options.form;
    } else if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers["Content-Type"] = "application/json";
    }
    const url = this.baseUrl + path + query(options.query);
    const resendable = IDEMPOTENT.has(method) || Object.keys(headers).some((k) => k.toLowerCase() === "idempotency-key");
    for (let attempt = 0; ; attempt++) {
      let response: Response;
      try {
        response = await this.fetchImpl(url, { method, headers, body, signal: AbortSignal.timeout(this.timeoutMs) });
      } catch (error) {
        const code = errorCode(error);
        if (attempt < this.maxRetries && (resendable || (code !== undefined && NOT_SENT.has(code)))) {
          await sleep(backoffMs(attempt + 1));
          continue;
        }
        throw new APIConnectionError(`${method} ${path}: ${String(error)}`, error);
      }
      if ((response.status === 429 || response.status === 503) && attempt < this.maxRetries) {
        const asked = retryAfterSeconds(response.headers);
        const waitMs = asked === null ? backoffMs(attempt + 1) : asked * 1000;
        if (waitMs <= this.maxRetryWaitMs) {
          await response.body?.cancel();
          await sleep(waitMs);
          continue;
        }
      }
      if (!response.ok) throw await errorFromResponse(response);
      if (raw) return response as T;
      if (response.status === 204) return undefined as T;
      const text = await response.text();
      return (text ? JSON.parse(text) : undefined) as T;
    }
  }

  /** A live socket's messages as an async iterator; ends when the server closes it normally. */
  async *socket(path: string, notFound: string): AsyncGenerator<ExecutionEvent> {
    const url = new URL(`${this.baseUrl}/ws/${path}`);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    let protocols: string[] | undefined;
    if (this.token) protocols = ["bearer", this.token];
    else if (this.apiKey) url.searchParams.set("api_key", this.apiKey);
    const WebSocketImpl: typeof WebSocket =
      (globalThis as { WebSocket?: typeof WebSocket }).WebSocket ?? ((await import("ws")).default as unknown as typeof WebSocket);
    const socket = new WebSocketImpl(url.toString(), protocols);
    const queue: ExecutionEvent[] = [];
    let closed: { code: number; reason: string } | undefined;
    let failed: unknown;
    let wake: (() => void) | undefined;
    const notify = () => {
      wake?.();
      wake = undefined;
    };
    socket.addEventListener("message", (event: MessageEvent) => {
      queue.push(JSON.parse(String(event.data)) as ExecutionEvent);
      notify();
    });
    socket.addEventListener("close", (event: CloseEvent) => {
      closed = { code: event.code, reason: event.reason };
      notify();
    });
    socket.addEventListener("error", (event: Event) => {
      failed = (event as { error?: unknown }).error ?? event;
      notify();
    });
    try {
      for (;;) {
        const next = queue.shift();
        if (next !== undefined) {
          yield next;
          continue;
        }
        if (closed) break;
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
      }
    } finally {
      if (!closed) socket.close(1000);
    }
    if (closed.code === 4401) throw new AuthenticationError("The live socket refused the credentials", { status: 401, code: "UNAUTHORIZED" });
    if (closed.code === 4403) throw new NotFoundError(notFound, { status: 404, code: "NOT_FOUND" });
    if (closed.code !== 1000 && closed.code !== 1001) {
      throw new StreamError(`The live socket closed with code ${closed.code}${failed ? `: ${String(failed)}` : ""}`, closed.code);
    }
  }
}
