"""Flowbuilder settings, read from the environment (12-factor).

Two ways to run, one code path:

* **Embedded** (no env at all): SQLite in WAL mode, locmem cache, an in-memory
  channel layer that is safe to call from worker threads, and Celery on the
  in-memory broker, consumed by a worker running inside the web process.
* **Production** (``DATABASE_URL`` / ``REDIS_URL`` set): PostgreSQL, Redis for
  cache, channel layer and Celery broker, separate worker and beat processes.

Every setting has a default that makes the embedded mode work; the README
lists them.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DATA_DIR = Path(env.str("FLOWBUILDER_DATA_DIR", default=str(BASE_DIR / "var")))
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _persistent_secret(name: str, *, length: int = 50) -> str:
    """A random secret kept in the data dir so restarts and sibling processes agree.

    Production sets the value through the environment instead (see README).
    """
    path = DATA_DIR / name
    if not path.exists():
        path.write_text(secrets.token_urlsafe(length))
        path.chmod(0o600)
    return path.read_text().strip()


DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="") or _persistent_secret("secret_key")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

REDIS_URL = env.str("REDIS_URL", default="")
EMBEDDED = not REDIS_URL and not env.str("CELERY_BROKER_URL", default="")

# --- applications -----------------------------------------------------------

INSTALLED_APPS = [
    # Before the admin: its templates override the admin's index (the dashboard).
    "console",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    # third party
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "corsheaders",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "django_celery_beat",
    "axes",
    "allauth",
    "allauth.account",
    "allauth.headless",
    # ours
    "accounts",
    "workflows",
    "executions",
    "integrations",
    "templates_app",
    "monitoring",
    "nlparse",
    "files",
    "audit",
    "analytics",
    "webhooks",
]

MIDDLEWARE = [
    # First, so that its latency covers the whole stack.
    "monitoring.middleware.PrometheusMiddleware",
    "flowbuilder.api.middleware.RequestIDMiddleware",
    "flowbuilder.api.middleware.TrailingSlashMiddleware",
    "flowbuilder.api.middleware.NulCharacterMiddleware",
    "flowbuilder.api.middleware.RequestSizeLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "audit.middleware.AuditContextMiddleware",
    "analytics.middleware.ApiUsageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "flowbuilder.api.middleware.RateLimitHeadersMiddleware",
    "flowbuilder.api.middleware.ApiErrorMiddleware",
    # Last, so that a locked-out admin login is answered by axes.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "flowbuilder.urls"
WSGI_APPLICATION = "flowbuilder.wsgi.application"
ASGI_APPLICATION = "flowbuilder.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- database -----------------------------------------------------------------

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{DATA_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers run beside the writer; IMMEDIATE takes the write lock at
    # BEGIN so two writers queue on the busy timeout instead of failing with
    # "database is locked" when one upgrades a read lock.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
elif env.bool("FLOWBUILDER_DB_POOL", default=True):
    # A bounded pool per process (psycopg-pool through Django): under ASGI every request runs
    # in a thread of its own, and persistent connections would open one per thread until
    # PostgreSQL has none left. A request that finds the pool empty for
    # FLOWBUILDER_DB_POOL_TIMEOUT seconds gets a 503 with Retry-After, not a 500.
    # The connection budget (README, Production) must stay under PostgreSQL's max_connections.
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # the pool keeps connections; Django hands them back
    DATABASES["default"]["OPTIONS"] = {
        **DATABASES["default"].get("OPTIONS", {}),
        "pool": {
            "min_size": env.int("FLOWBUILDER_DB_POOL_MIN_SIZE", default=1),
            "max_size": env.int("FLOWBUILDER_DB_POOL_MAX_SIZE", default=10),
            "timeout": env.float("FLOWBUILDER_DB_POOL_TIMEOUT", default=5),
            "max_idle": env.float("FLOWBUILDER_DB_POOL_MAX_IDLE", default=60),
        },
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

# --- cache and channel layer ------------------------------------------------------

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="fb"),
        }
    }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "flowbuilder.channel_layers.PipelinedRedisChannelLayer",
            "CONFIG": {
                # channels-redis waits for messages with a 5 s BZPOPMIN; redis-py 8 reads with a 5 s socket
                # timeout by default, so an idle receive (a quiet websocket) failed with TimeoutError at 5 s.
                "hosts": [
                    {"address": REDIS_URL, "socket_timeout": env.float("CHANNEL_LAYER_SOCKET_TIMEOUT", default=15)}
                ],
                "prefix": env.str("CHANNEL_LAYER_PREFIX", default="fb-asgi"),
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "flowbuilder.channel_layers.ThreadSafeInMemoryChannelLayer"}}

# --- auth ---------------------------------------------------------------------------

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=7)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    "ALGORITHM": "HS256",
    "SIGNING_KEY": SECRET_KEY,
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
    # Tokens carry a digest of the password hash: changing the password
    # revokes every token issued before.
    "CHECK_REVOKE_TOKEN": True,
    "REVOKE_TOKEN_CLAIM": "pwd",
    "AUTH_HEADER_TYPES": ("Bearer",),
}
GUEST_SESSION_TTL = timedelta(minutes=env.int("GUEST_SESSION_MINUTES", default=60))
# Guests (POST /auth/guest, no credentials) build and dry-run workflows only. New sessions are
# limited per client address (the auth rate) and across all clients (this rate).
GUEST_SESSIONS_ENABLED = env.bool("GUEST_SESSIONS_ENABLED", default=True)
GUEST_SESSIONS_RATE = env.list("GUEST_SESSIONS_RATE", default=["30/minute", "300/hour"])
GUEST_FILE_QUOTA_BYTES = env.int("GUEST_FILE_QUOTA_BYTES", default=5 * 1024 * 1024)
CROSS_SYSTEM_TOKEN_TTL = timedelta(minutes=env.int("CROSS_SYSTEM_TOKEN_MINUTES", default=5))
CROSS_SYSTEM_SIGNING_KEY = env.str("CROSS_SYSTEM_SIGNING_KEY", default="") or SECRET_KEY
API_KEY_LAST_USED_RESOLUTION = timedelta(seconds=60)
# How many trusted reverse proxies stand in front (flowbuilder/client_ip.py). 0: the client is the
# socket's address and X-Forwarded-For is ignored; N: the N-th address from the right of it.
NUM_PROXIES = env.int("NUM_PROXIES", default=0)

# django-axes: lock an (e-mail, IP) pair out after repeated failures.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "email"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "flowbuilder.api.errors.axes_lockout_response"
AXES_CLIENT_IP_CALLABLE = "flowbuilder.client_ip.client_ip"

# django-allauth, headless: e-mail verification and password reset for the SPA.
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*"]
ACCOUNT_EMAIL_VERIFICATION = env.str("ACCOUNT_EMAIL_VERIFICATION", default="optional")
ACCOUNT_UNIQUE_EMAIL = True
HEADLESS_ONLY = True
FRONTEND_URL = env.str("FRONTEND_URL", default="http://localhost:3000")
HEADLESS_FRONTEND_URLS = {
    "account_confirm_email": f"{FRONTEND_URL}/account/verify-email/{{key}}",
    "account_reset_password": f"{FRONTEND_URL}/account/password/reset",
    "account_reset_password_from_key": f"{FRONTEND_URL}/account/password/reset/key/{{key}}",
    "account_signup": f"{FRONTEND_URL}/account/signup",
}

# --- REST API -------------------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.JWTAuthentication",
        "accounts.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": [
        "flowbuilder.api.parsers.DepthLimitedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PAGINATION_CLASS": "flowbuilder.api.pagination.PagePagination",
    "PAGE_SIZE": 20,
    "DEFAULT_FILTER_BACKENDS": [
        "flowbuilder.api.filters.KnownQueryParameters",
        "django_filters.rest_framework.DjangoFilterBackend",
        "flowbuilder.api.filters.StrictOrderingFilter",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["flowbuilder.api.throttling.RateLimitThrottle"],
    "EXCEPTION_HANDLER": "flowbuilder.api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "NUM_PROXIES": NUM_PROXIES,  # 0 is not None: DRF then uses REMOTE_ADDR, not the whole header
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "DATETIME_FORMAT": "iso-8601",
    "COERCE_DECIMAL_TO_STRING": False,
}

# Rate limits per user (per IP when anonymous), fixed windows counted in the
# cache so that every process shares them. "auth" covers the login family.
RATE_LIMITS = {
    "default": env.list("RATE_LIMIT_DEFAULT", default=["100/minute", "1000/hour", "10000/day"]),
    "auth": env.list("RATE_LIMIT_AUTH", default=["10/minute"]),
    # Refresh and logout hold a token already: they do not spend the login budget.
    "token": env.list("RATE_LIMIT_TOKEN", default=["60/minute"]),
}
RATE_LIMIT_ENABLED = env.bool("RATE_LIMIT_ENABLED", default=True)

# Request bodies: the API refuses anything larger with 413, and JSON nested
# deeper than this with 400.
API_MAX_BODY_BYTES = env.int("API_MAX_BODY_BYTES", default=2 * 1024 * 1024)
API_MAX_JSON_DEPTH = env.int("API_MAX_JSON_DEPTH", default=64)
DATA_UPLOAD_MAX_MEMORY_SIZE = API_MAX_BODY_BYTES

CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
CORS_EXPOSE_HEADERS = [
    "X-Request-ID",
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
    "X-RateLimit-Window",
    "Retry-After",
]
CORS_ALLOW_HEADERS = [
    "accept",
    "authorization",
    "content-type",
    "idempotency-key",
    "x-api-key",
    "x-request-id",
]

SPECTACULAR_SETTINGS = {
    "TITLE": "Flowbuilder API",
    "DESCRIPTION": "Workflow automation: build, run and watch workflows.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "flowbuilder.api.schema.add_error_responses",
        "workflows.api.schema.add_definition_schemas",
        "flowbuilder.api.summaries.add_summaries",
    ],
}

# --- Celery -------------------------------------------------------------------------

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="") or REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE = {
    "recover-executions": {
        "task": "executions.recover",
        "schedule": env.float("FLOWBUILDER_SWEEP_INTERVAL_SECONDS", default=15),
    },
    "purge-audit-events": {"task": "audit.purge", "schedule": 24 * 3600},
    "flush-api-usage": {
        "task": "analytics.flush_api_usage",
        "schedule": env.float("FLOWBUILDER_API_USAGE_FLUSH_SECONDS", default=60),
    },
    "webhook-deliveries": {
        "task": "webhooks.sweep",
        "schedule": env.float("FLOWBUILDER_WEBHOOK_DELIVERY_SWEEP_SECONDS", default=30),
    },
    "purge-webhook-deliveries": {"task": "webhooks.purge_deliveries", "schedule": 24 * 3600},
    "reconcile-file-processing": {
        "task": "files.reconcile_processing",
        "schedule": env.float("FLOWBUILDER_FILE_RECONCILE_SECONDS", default=60),
    },
}
CELERY_TIMEZONE = "UTC"
# A broker that is down must not hold a request long: the rows are the outbox, the sweep resends.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}
# Last resorts, for prefork workers (the embedded worker's threads cannot be stopped):
# a task past its hard time limit has its process killed (a step's task is then
# rejected, and the step's death counted; FLOWBUILDER_MAX_WORKER_DEATHS), and a pool
# process that grew past the memory limit is replaced after its task. Expressions and
# scripts have their own, much tighter, limits.
CELERY_TASK_TIME_LIMIT = env.int("FLOWBUILDER_TASK_TIME_LIMIT_SECONDS", default=900)
CELERY_TASK_SOFT_TIME_LIMIT = max(CELERY_TASK_TIME_LIMIT - 30, 1)
FLOWBUILDER_STEP_TASK_TIME_LIMIT_SECONDS = env.int("FLOWBUILDER_STEP_TASK_TIME_LIMIT_SECONDS", default=86400 + 900)
CELERY_WORKER_MAX_MEMORY_PER_CHILD = env.int("FLOWBUILDER_WORKER_MAX_MEMORY_MB", default=1024) * 1024 or None  # KiB
CELERY_WORKER_MAX_TASKS_PER_CHILD = env.int("FLOWBUILDER_WORKER_MAX_TASKS_PER_CHILD", default=0) or None
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Celery closes Django's connections around every task unless told to reuse
# them; reconnecting cost ~3 ms a step. Workers instead close a connection the
# way a request does: when it broke or outlived CONN_MAX_AGE (flowbuilder/celery.py).
CELERY_DB_REUSE_MAX = 1_000_000
if CELERY_BROKER_URL.startswith("memory://"):
    # The in-memory transport polls; the default one second would add a
    # second to every dispatched step in embedded mode.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"polling_interval": 0.005}
# Embedded mode: a Celery worker (and beat) inside the web process.
EMBEDDED_WORKER = env.bool("FLOWBUILDER_EMBEDDED_WORKER", default=CELERY_BROKER_URL.startswith("memory://"))
EMBEDDED_WORKER_CONCURRENCY = env.int("FLOWBUILDER_EMBEDDED_WORKER_CONCURRENCY", default=4)

# --- engine ---------------------------------------------------------------------------

# A running step holds a lease its worker renews; a step whose lease ran out
# (worker killed, connection lost) is run again by the recovery sweep.
FLOWBUILDER_STEP_LEASE_SECONDS = env.float("FLOWBUILDER_STEP_LEASE_SECONDS", default=60)
# A worker that finishes a step runs its run's next dispatched step itself (no broker trip), for up
# to this many steps and this long per task; then the next goes to the queue behind other runs' work.
FLOWBUILDER_EAGER_MAX_STEPS = env.int("FLOWBUILDER_EAGER_MAX_STEPS", default=100)
FLOWBUILDER_EAGER_SLICE_SECONDS = env.float("FLOWBUILDER_EAGER_SLICE_SECONDS", default=1)
FLOWBUILDER_SWEEP_INTERVAL_SECONDS = env.float("FLOWBUILDER_SWEEP_INTERVAL_SECONDS", default=15)
# Leases, wake-ups, deadlines and schedule ticks use the database server's clock: each process
# measures its offset from it every this long (flowbuilder/clock.py); smaller offsets are noise.
FLOWBUILDER_CLOCK_SYNC_SECONDS = env.float("FLOWBUILDER_CLOCK_SYNC_SECONDS", default=60)
FLOWBUILDER_CLOCK_MIN_SKEW_SECONDS = env.float("FLOWBUILDER_CLOCK_MIN_SKEW_SECONDS", default=1)
# Queued work nobody picked up within this long is queued again (the rows are the outbox).
FLOWBUILDER_REQUEUE_AFTER_SECONDS = env.float("FLOWBUILDER_REQUEUE_AFTER_SECONDS", default=60)
# A step (or a run's start, or a wait's resumption) whose worker died this many times fails for good.
FLOWBUILDER_MAX_WORKER_DEATHS = env.int("FLOWBUILDER_MAX_WORKER_DEATHS", default=2)
# A web process with this many HTTP requests busy (not waiting for a run) answers new ones 503 at once (0: no limit).
# Plain-English drafting (/test/parse): a text whose reading takes longer is refused (422).
FLOWBUILDER_PARSE_BUDGET_SECONDS = env.float("FLOWBUILDER_PARSE_BUDGET_SECONDS", default=10.0)
FLOWBUILDER_MAX_CONCURRENT_REQUESTS = env.int("FLOWBUILDER_MAX_CONCURRENT_REQUESTS", default=8)
# What a 503 (database, Redis or broker unreachable or saturated) tells clients to wait, seconds.
FLOWBUILDER_RETRY_AFTER_SECONDS = env.int("FLOWBUILDER_RETRY_AFTER_SECONDS", default=2)
# Sweeps give up on a row another transaction holds after this long, and go on with the others.
FLOWBUILDER_MAINTENANCE_LOCK_TIMEOUT_SECONDS = env.float("FLOWBUILDER_MAINTENANCE_LOCK_TIMEOUT_SECONDS", default=2)
# Waits up to this long may use a broker countdown; longer ones are woken by the sweep only.
FLOWBUILDER_MAX_COUNTDOWN_SECONDS = env.float("FLOWBUILDER_MAX_COUNTDOWN_SECONDS", default=300)
# The queue of step tasks; give steps dedicated workers with `celery worker -Q steps`.
FLOWBUILDER_STEPS_QUEUE = env.str("FLOWBUILDER_STEPS_QUEUE", default="steps")
FLOWBUILDER_SYNC_WAIT_SECONDS = env.float("FLOWBUILDER_SYNC_WAIT_SECONDS", default=30)
FLOWBUILDER_MAX_WORKFLOW_DEPTH = env.int("FLOWBUILDER_MAX_WORKFLOW_DEPTH", default=10)
FLOWBUILDER_MAX_STEP_OUTPUT_BYTES = env.int("FLOWBUILDER_MAX_STEP_OUTPUT_BYTES", default=1_000_000)
FLOWBUILDER_MAX_INPUT_BYTES = env.int("FLOWBUILDER_MAX_INPUT_BYTES", default=1_000_000)
# Live updates (executions/live): websocket `ping` frames and SSE `: ping` comments when idle, so
# proxies keep the connection; how long a socket holds a run's early messages waiting for a missing seq.
FLOWBUILDER_LIVE_HEARTBEAT_SECONDS = env.float("FLOWBUILDER_LIVE_HEARTBEAT_SECONDS", default=25)
FLOWBUILDER_LIVE_REORDER_SECONDS = env.float("FLOWBUILDER_LIVE_REORDER_SECONDS", default=1.0)
# Extra node type modules to load (plugins; the tests' flaky and slow nodes).
FLOWBUILDER_EXTRA_NODE_MODULES = env.list("FLOWBUILDER_EXTRA_NODE_MODULES", default=[])

# --- script nodes (executions/engine/sandbox) ---------------------------------------------

# "bubblewrap" (namespaces, no network, no server files) or "process" (rlimits and an
# empty environment only). Without a working bubblewrap, scripts are refused unless
# "process" is chosen here; anything else ("none") is refused.
FLOWBUILDER_SCRIPT_ISOLATION = env.str("FLOWBUILDER_SCRIPT_ISOLATION", default="bubblewrap")
FLOWBUILDER_SCRIPT_BWRAP = env.str("FLOWBUILDER_SCRIPT_BWRAP", default="bwrap")
# The interpreter scripts run on (standard library only); default: the one behind this virtualenv.
FLOWBUILDER_SCRIPT_PYTHON = env.str("FLOWBUILDER_SCRIPT_PYTHON", default="")
# Sandboxes each worker process starts ahead of time (each serves one run); 0 starts one per run.
FLOWBUILDER_SCRIPT_WARM_POOL = env.int("FLOWBUILDER_SCRIPT_WARM_POOL", default=2)

# --- staff console, audit, monitoring ---------------------------------------------------

# Audit events older than this many days are purged daily (0: keep them forever).
FLOWBUILDER_AUDIT_RETENTION_DAYS = env.int("FLOWBUILDER_AUDIT_RETENTION_DAYS", default=365)
# /metrics (Prometheus) answers a scraper sending "Authorization: Bearer <this>", or a staff session.
FLOWBUILDER_METRICS_TOKEN = env.str("FLOWBUILDER_METRICS_TOKEN", default="")
# Celery's inspect ping (health, dashboard, metrics): how long to wait for workers, how long to cache the answer.
FLOWBUILDER_WORKER_PING_TIMEOUT = env.float("FLOWBUILDER_WORKER_PING_TIMEOUT", default=1.0)
FLOWBUILDER_WORKER_PING_CACHE_SECONDS = env.int("FLOWBUILDER_WORKER_PING_CACHE_SECONDS", default=30)
# A step queued or pending longer than this is shown as stuck on the dashboard.
FLOWBUILDER_STUCK_STEP_SECONDS = env.int("FLOWBUILDER_STUCK_STEP_SECONDS", default=300)
# Where LLM token and cost records live (installed by the integrations app); "" for none.
FLOWBUILDER_AI_USAGE_MODEL = env.str("FLOWBUILDER_AI_USAGE_MODEL", default="integrations.AIUsage")

# --- triggers ---------------------------------------------------------------------------

# Where this server is reached from outside, for webhook URLs (e.g. https://flows.example.com);
# empty: built from the request's host.
FLOWBUILDER_PUBLIC_URL = env.str("FLOWBUILDER_PUBLIC_URL", default="").rstrip("/")
# Requests per webhook URL (fixed windows in the cache, like RATE_LIMIT_DEFAULT).
FLOWBUILDER_WEBHOOK_RATE_LIMIT = env.list("FLOWBUILDER_WEBHOOK_RATE_LIMIT", default=["60/minute"])
# Signed webhooks: how old a signature's timestamp may be, and how long delivery ids are remembered.
FLOWBUILDER_WEBHOOK_TOLERANCE_SECONDS = env.int("FLOWBUILDER_WEBHOOK_TOLERANCE_SECONDS", default=300)
# Schedules firing more often than this are refused when the workflow is saved.
FLOWBUILDER_SCHEDULE_MIN_INTERVAL_SECONDS = env.int("FLOWBUILDER_SCHEDULE_MIN_INTERVAL_SECONDS", default=60)
# A tick beat wakes up for later than this (beat was down, the workflow was paused) is dropped, not run late.
FLOWBUILDER_SCHEDULE_MISFIRE_GRACE_SECONDS = env.int("FLOWBUILDER_SCHEDULE_MISFIRE_GRACE_SECONDS", default=3600)

# --- e-mail ---------------------------------------------------------------------------

# EMAIL_URL, e.g. smtp+tls://user:password@smtp.example.com:587 (django-environ).
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Flowbuilder <noreply@localhost>")

# --- static files, i18n ---------------------------------------------------------------------------

STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(DATA_DIR / "static")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Serve straight from the apps' static dirs when collectstatic was not run
# (embedded mode); production images run collectstatic.
WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(DATA_DIR / "media")))

# --- files --------------------------------------------------------------------------------

# Uploads (files app): size limit per file, storage quota per user.
FLOWBUILDER_FILE_MAX_BYTES = env.int("FLOWBUILDER_FILE_MAX_BYTES", default=25 * 1024 * 1024)
FLOWBUILDER_FILE_QUOTA_BYTES = env.int("FLOWBUILDER_FILE_QUOTA_BYTES", default=1024 * 1024 * 1024)
# How many bytes of files one step may read (script `files`, an HTTP body or multipart
# files, LLM images), all its files together: they are held in memory.
FLOWBUILDER_NODE_FILE_MAX_BYTES = env.int("FLOWBUILDER_NODE_FILE_MAX_BYTES", default=10 * 1024 * 1024)
# The upload endpoint's body may be as large as a file plus the multipart framing.
API_BODY_LIMIT_OVERRIDES = {"/api/v1/files/upload": FLOWBUILDER_FILE_MAX_BYTES + 64 * 1024}
# File bytes live in the "files" storage: local disk under MEDIA_ROOT/files, or any
# S3-compatible store (AWS, MinIO, Ceph, R2…) when FLOWBUILDER_S3_BUCKET is set.
FLOWBUILDER_S3_BUCKET = env.str("FLOWBUILDER_S3_BUCKET", default="")
if FLOWBUILDER_S3_BUCKET:
    STORAGES["files"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": FLOWBUILDER_S3_BUCKET,
            "endpoint_url": env.str("FLOWBUILDER_S3_ENDPOINT_URL", default="") or None,
            "region_name": env.str("FLOWBUILDER_S3_REGION", default="") or None,
            "access_key": env.str("FLOWBUILDER_S3_ACCESS_KEY_ID", default="") or None,
            "secret_key": env.str("FLOWBUILDER_S3_SECRET_ACCESS_KEY", default="") or None,
            "location": env.str("FLOWBUILDER_S3_PREFIX", default="files"),
            "default_acl": None,  # private: downloads go through the API's owner check
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }
else:
    STORAGES["files"] = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(MEDIA_ROOT / "files"), "file_permissions_mode": 0o600},
    }

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- security headers (production) -----------------------------------------------------------------

SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("BEHIND_TLS_PROXY", default=False) else None
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# --- logging ----------------------------------------------------------------------------

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "flowbuilder.api.middleware.RequestIDLogFilter"},
        "query_secrets": {"()": "flowbuilder.log_filters.QuerySecretsFilter"},
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["request_id", "query_secrets"],
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.request": {"level": "ERROR"},
        "axes": {"level": "WARNING"},
    },
}

# --- integrations: credentials, outgoing HTTP, AI providers ----------------------------------


def _persistent_fernet_key(name: str = "encryption_key") -> str:
    """A Fernet key kept in the data dir (embedded mode); production sets FLOWBUILDER_ENCRYPTION_KEYS."""
    import base64

    path = DATA_DIR / name
    if not path.exists():
        path.write_text(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())
        path.chmod(0o600)
    return path.read_text().strip()


# Fernet keys, comma-separated: the first encrypts, every one decrypts (rotate_encryption_key).
FLOWBUILDER_ENCRYPTION_KEYS = env.list("FLOWBUILDER_ENCRYPTION_KEYS", default=[]) or [_persistent_fernet_key()]
# Outgoing HTTP (http_request, slack, llm) refuses private, loopback, link-local and metadata
# addresses; these hosts or CIDRs are let through.
FLOWBUILDER_HTTP_ALLOWLIST = env.list("FLOWBUILDER_HTTP_ALLOWLIST", default=[])
FLOWBUILDER_HTTP_MAX_RESPONSE_BYTES = env.int("FLOWBUILDER_HTTP_MAX_RESPONSE_BYTES", default=10 * 1024 * 1024)
# The server's default OpenAI-compatible provider for the AI gateway (optional).
# A run's output or error in its final live message, up to this size (then null and "truncated": true).
FLOWBUILDER_LIVE_MAX_VALUE_BYTES = env.int("FLOWBUILDER_LIVE_MAX_VALUE_BYTES", default=64 * 1024)
FLOWBUILDER_AI_BASE_URL = env.str("FLOWBUILDER_AI_BASE_URL", default="")
FLOWBUILDER_AI_API_KEY = env.str("FLOWBUILDER_AI_API_KEY", default="")
FLOWBUILDER_AI_DEFAULT_MODEL = env.str("FLOWBUILDER_AI_DEFAULT_MODEL", default="gpt-4o-mini")
FLOWBUILDER_AI_IMAGE_MODEL = env.str("FLOWBUILDER_AI_IMAGE_MODEL", default="dall-e-3")
FLOWBUILDER_AI_TIMEOUT_SECONDS = env.float("FLOWBUILDER_AI_TIMEOUT_SECONDS", default=120)
# Prices in USD, {"model prefix": {"prompt": per 1M tokens, "completion": per 1M tokens, "image": per image}};
# merged over the built-in table in integrations/ai.py.
FLOWBUILDER_AI_PRICES = env.json("FLOWBUILDER_AI_PRICES", default={})
# httpx logs every request's URL at INFO, and a URL may carry a credential (an API key in the query).
LOGGING["loggers"]["httpx"] = {"level": "WARNING"}
SPECTACULAR_SETTINGS.setdefault("ENUM_NAME_OVERRIDES", {}).update(
    {
        "CredentialTypeEnum": "integrations.credential_types.CHOICES",
        "ChatRoleEnum": "integrations.api.serializers.CHAT_ROLES",
        "RoleEnum": "workflows.models.WorkflowShare.Role",  # keeps its name beside ChatRoleEnum
    }
)

# --- outgoing webhooks ---------------------------------------------------------------------------

# Seconds between the attempts of a delivery (one more attempt than delays): 1m, 5m, 30m, 1h, 2h, 6h, 12h
# is 8 attempts over about a day. Waits up to FLOWBUILDER_MAX_COUNTDOWN_SECONDS use a broker countdown;
# longer ones are queued by the sweep (every FLOWBUILDER_WEBHOOK_DELIVERY_SWEEP_SECONDS) once due.
FLOWBUILDER_WEBHOOK_DELIVERY_RETRY_DELAYS = [
    float(d)
    for d in env.list("FLOWBUILDER_WEBHOOK_DELIVERY_RETRY_DELAYS", default=[60, 300, 1800, 3600, 7200, 21600, 43200])
]
# How long an attempt may take (connect, send, answer) before it counts as failed.
FLOWBUILDER_WEBHOOK_DELIVERY_TIMEOUT_SECONDS = env.float("FLOWBUILDER_WEBHOOK_DELIVERY_TIMEOUT_SECONDS", default=10)
# Run events leave out their input/output/error past this body size (and say "truncated": true).
FLOWBUILDER_WEBHOOK_DELIVERY_MAX_PAYLOAD_BYTES = env.int(
    "FLOWBUILDER_WEBHOOK_DELIVERY_MAX_PAYLOAD_BYTES", default=256 * 1024
)
# A subscription is disabled (and its owner e-mailed) after this many failed attempts in a row (0: never).
FLOWBUILDER_WEBHOOK_DISABLE_AFTER_FAILURES = env.int("FLOWBUILDER_WEBHOOK_DISABLE_AFTER_FAILURES", default=10)
# Finished delivery attempts older than this are deleted daily by beat (0: keep them).
FLOWBUILDER_WEBHOOK_DELIVERY_RETENTION_DAYS = env.int("FLOWBUILDER_WEBHOOK_DELIVERY_RETENTION_DAYS", default=30)
