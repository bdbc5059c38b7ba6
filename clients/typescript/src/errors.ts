/**
 * The API's errors as classes: one per kind, each carrying the server's error envelope
 * (`{"error": {"code", "message", "details", "request_id"}}`), so callers can write
 * `if (err instanceof NotFoundError)` and read `err.details` for the fields a 400 points at.
 */

export interface ErrorDetail {
  field?: string;
  message?: string;
  [key: string]: unknown;
}

/** Base of every error this client throws. */
export class FlowbuilderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** The server could not be reached (after the retries), or the connection broke. */
export class APIConnectionError extends FlowbuilderError {
  constructor(message: string, readonly cause?: unknown) {
    super(message);
  }
}

/** `executions.wait` gave up before the run ended; `execution` is the run as last seen. */
export class WaitTimeoutError extends FlowbuilderError {
  constructor(message: string, readonly execution: unknown) {
    super(message);
  }
}

/** A live-updates socket closed abnormally (`code` is the websocket close code). */
export class StreamError extends FlowbuilderError {
  constructor(message: string, readonly code?: number) {
    super(message);
  }
}

export interface APIErrorFields {
  status: number;
  code?: string;
  reason?: string;
  details?: ErrorDetail[];
  requestId?: string | null;
  retryAfter?: number | null;
  headers?: Headers;
}

/** The server answered an error: `status`, and its envelope's `code`, `message`, `details`. */
export class APIError extends FlowbuilderError {
  readonly status: number;
  readonly code: string;
  readonly reason: string;
  readonly details: ErrorDetail[];
  readonly requestId: string | null;
  readonly headers: Headers | undefined;

  constructor(message: string, fields: APIErrorFields) {
    const where = (fields.details ?? [])
      .filter((d) => d.field)
      .map((d) => `${d.field}: ${d.message}`)
      .join("; ");
    super(`${fields.status}${fields.code ? ` ${fields.code}` : ""}: ${message}${where ? ` (${where})` : ""}`);
    this.message = message;
    this.status = fields.status;
    this.code = fields.code ?? "";
    this.reason = fields.reason ?? "";
    this.details = fields.details ?? [];
    this.requestId = fields.requestId ?? null;
    this.headers = fields.headers;
  }

  /** The HTTP status, under the name the Python client uses. */
  get statusCode(): number {
    return this.status;
  }
}

/** 400 or 422: the request was wrong; `details` says which fields and why. */
export class ValidationError extends APIError {}
/** 401: no credentials, or a bad or expired token or API key. */
export class AuthenticationError extends APIError {}
/** 403: authenticated, but not allowed (a role or an API key's scopes). */
export class PermissionDeniedError extends APIError {}
/** 404: no such object, or one you may not see. */
export class NotFoundError extends APIError {}
/** 409: the object changed meanwhile, or the action does not fit its state. */
export class ConflictError extends APIError {}

/** 429: too many requests; `retryAfter` is how many seconds the server asked to wait. */
export class RateLimitError extends APIError {
  readonly retryAfter: number | null;
  constructor(message: string, fields: APIErrorFields) {
    super(message, fields);
    this.retryAfter = fields.retryAfter ?? null;
  }
}

/** 503: the server is at capacity or a service it needs is down; `retryAfter` says when to come back. */
export class ServiceUnavailableError extends APIError {
  readonly retryAfter: number | null;
  constructor(message: string, fields: APIErrorFields) {
    super(message, fields);
    this.retryAfter = fields.retryAfter ?? null;
  }
}

const BY_STATUS: Record<number, typeof APIError> = {
  400: ValidationError,
  401: AuthenticationError,
  403: PermissionDeniedError,
  404: NotFoundError,
  409: ConflictError,
  422: ValidationError,
  429: RateLimitError,
  503: ServiceUnavailableError,
};

/** The `Retry-After` header in seconds, or null. */
export function retryAfterSeconds(headers: Headers): number | null {
  const value = headers.get("retry-after");
  if (value === null) return null;
  const seconds = Number(value);
  return Number.isFinite(seconds) ? Math.max(0, seconds) : null;
}

/** The error for an answer with an error status, from the SPEC's envelope (or the bare status). */
export async function errorFromResponse(response: Response): Promise<APIError> {
  let envelope: Record<string, unknown> = {};
  try {
    const body: unknown = await response.json();
    if (body && typeof body === "object" && "error" in body && body.error && typeof body.error === "object") {
      envelope = body.error as Record<string, unknown>;
    }
  } catch {
    // not JSON: the status says it all
  }
  const Cls = BY_STATUS[response.status] ?? APIError;
  return new Cls(String(envelope.message ?? (response.statusText || "HTTP error")), {
    status: response.status,
    code: typeof envelope.code === "string" ? envelope.code : "",
    reason: typeof envelope.reason === "string" ? envelope.reason : "",
    details: Array.isArray(envelope.details) ? (envelope.details as ErrorDetail[]) : [],
    requestId: typeof envelope.request_id === "string" ? envelope.request_id : response.headers.get("x-request-id"),
    retryAfter: retryAfterSeconds(response.headers),
    headers: response.headers,
  });
}
