"""Lantern settings, read from the environment.

Development defaults work out of the box (SQLite, a server-less broker, the offline
provider). With DEBUG off, missing secrets stop start-up with ImproperlyConfigured naming
the variable. Every variable is listed in the README with its default.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env")

DEBUG: bool = env.bool("DEBUG", default=True)
TESTING: bool = env.bool("LANTERN_TESTING", default=False)


def _required_in_production(name: str, dev_default: str) -> str:
    value = env.str(name, default="")
    if value:
        return value
    if DEBUG:
        return dev_default
    raise ImproperlyConfigured(f"{name} must be set when DEBUG is off.")


SECRET_KEY = _required_in_production("SECRET_KEY", "dev-insecure-secret-key-change-me")
# A Fernet key list, newest first; comma-separated. The development default is derived from a
# fixed string so the demo works; production refuses to start without real keys.
FIELD_ENCRYPTION_KEYS: list[str] = [
    k.strip()
    for k in _required_in_production(
        "FIELD_ENCRYPTION_KEYS", "bGFudGVybi1kZXYtb25seS1ub3QtZm9yLXByb2QtMzI="
    ).split(",")
    if k.strip()
]

ALLOWED_HOSTS: list[str] = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS: list[str] = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    # accounts first: its `migrate` command replaces Django's (runs as the owner role).
    "accounts",
    "tutoring",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "base.middleware.StaticFilesMiddleware",  # WhiteNoise, async-capable
    "base.middleware.RequestLogMiddleware",  # after static files: those are not logged
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "base.middleware.SecurityHeadersMiddleware",
    # Opens the request transaction in which the school context is set (see accounts/tenancy.py).
    "accounts.tenancy.TenantTransactionMiddleware",
    # Hostile input (oversized bodies, deep JSON, NUL, bad UTF-8) gets a 4xx here.
    "base.middleware.RequestInputMiddleware",
    # Turns a sign-in lockout into its 429 answer (accounts/lockout.py); axes wants it last.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.navigation",
            ],
        },
    }
]

# --- Database -------------------------------------------------------------------------------

DATABASE_URL: str = env.str("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
DATABASE_OWNER_URL: str = env.str("DATABASE_OWNER_URL", default="")
DATABASE_POOL: bool = env.bool("DATABASE_POOL", default=True)
DATABASE_POOL_MAX_SIZE: int = env.int("DATABASE_POOL_MAX_SIZE", default=10)
# "transaction": DATABASE_URL is a pooler in transaction mode (PgBouncer pool_mode=transaction),
# so consecutive transactions of one connection may run on different server sessions.
DATABASE_POOLER: str = env.str("DATABASE_POOLER", default="")
if DATABASE_POOLER not in ("", "transaction"):
    raise ImproperlyConfigured("DATABASE_POOLER must be empty or 'transaction'.")


def _database(url: str) -> dict:
    config = environ.Env.db_url_config(url)
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # Web and worker write at once in the demo: IMMEDIATE + a timeout avoids
        # "database is locked" (WAL alone does not).
        config["OPTIONS"] = {"transaction_mode": "IMMEDIATE", "timeout": 20}
        return config
    config["ENGINE"] = "django.db.backends.postgresql"
    config["CONN_MAX_AGE"] = 0
    if DATABASE_POOL:
        config["OPTIONS"] = {
            "pool": {"min_size": 0, "max_size": DATABASE_POOL_MAX_SIZE, "timeout": 30}
        }
        # The pool checks a connection before lending it, so connections that died while
        # idle (PostgreSQL restarted, a proxy dropped them) are replaced, not handed out.
        config["CONN_HEALTH_CHECKS"] = True
    if DATABASE_POOLER == "transaction":
        # Nothing may outlive a transaction. A prepared statement (psycopg prepares after
        # `prepare_threshold` runs) or a WITH HOLD cursor (`.iterator()` outside a
        # transaction) stays in the server session it was made in, and the next transaction
        # may run in another: "prepared statement ... does not exist" (PgBouncer < 1.21).
        # Django passes prepare_threshold=None today; pinned here so it stays so.
        config.setdefault("OPTIONS", {})["prepare_threshold"] = None
        config["DISABLE_SERVER_SIDE_CURSORS"] = True
    return config


DATABASES = {"default": _database(DATABASE_URL)}


def _credentials(url: str) -> tuple[str, str] | None:
    if not url:
        return None
    parts = urlsplit(url)
    return unquote(parts.username or ""), unquote(parts.password or "")


# (user, password) of the role that runs migrations; None: migrations run as DATABASE_URL.
DATABASE_OWNER_CREDENTIALS = _credentials(DATABASE_OWNER_URL)
DATABASE_APP_ROLE = (_credentials(DATABASE_URL) or ("", ""))[0]


DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

# --- Auth -----------------------------------------------------------------------------------

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
PASSWORD_RESET_TIMEOUT = 60 * 60 * 24
INVITATION_TTL_DAYS: int = env.int("INVITATION_TTL_DAYS", default=7)

EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Lantern <no-reply@lantern.invalid>")

# --- I18N -----------------------------------------------------------------------------------

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static ---------------------------------------------------------------------------------

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# In development and the demo, serve static files straight from the source folders.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or TESTING
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- Redis, Celery --------------------------------------------------------------------------

REDIS_URL: str = env.str("REDIS_URL", default="")
# Live streams per web process (one Redis pub/sub connection each).
STREAM_MAX_REDIS_CONNECTIONS: int = env.int("STREAM_MAX_REDIS_CONNECTIONS", default=10_000)
# An open live stream re-checks its viewer's membership this often and closes when it ended.
STREAM_MEMBERSHIP_RECHECK_SECONDS: float = env.float(
    "STREAM_MEMBERSHIP_RECHECK_SECONDS", default=5.0
)
DEMO_BROKER_DIR = Path(env.str("DEMO_BROKER_DIR", default=str(BASE_DIR / ".demo" / "broker")))
CELERY_BROKER_URL: str = env.str("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://")
# The longest provider call (timeout x attempts within one task) must stay below this, or
# Redis would hand a still-running task to a second worker.
CELERY_VISIBILITY_TIMEOUT: int = env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)
if CELERY_BROKER_URL.startswith("filesystem://"):
    # kombu's filesystem transport: web and worker share one absolute folder for both
    # directions (kombu's docstring has them backwards), plus processed/control folders.
    for _sub in ("queue", "processed", "control"):
        (DEMO_BROKER_DIR / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(DEMO_BROKER_DIR / "queue"),
        "data_folder_out": str(DEMO_BROKER_DIR / "queue"),
        "processed_folder": str(DEMO_BROKER_DIR / "processed"),
        "control_folder": str(DEMO_BROKER_DIR / "control"),
        "store_processed": False,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_VISIBILITY_TIMEOUT}
    if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
        # kombu's Redis transport with a fix: busy workers survive Redis restarts.
        CELERY_BROKER_TRANSPORT = "base.redis_broker:Transport"
        # A Redis that hangs (rather than refusing connections) must not hang a publish
        # from a web request either; the worker's own blocking reads poll every second.
        CELERY_BROKER_TRANSPORT_OPTIONS |= {"socket_timeout": 5, "socket_connect_timeout": 2}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A worker keeps reconnecting to a broker that is down for as long as it takes (Celery's
# default gives up after 100 tries, about 45 minutes); generations already running go on
# and finish in the database meanwhile.
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
# SIGTERM: warm shutdown (stop taking tasks, let running ones finish). A cold shutdown
# (SIGQUIT, or a second SIGTERM/SIGINT) still gives running tasks this long before it
# cancels them. Not extended to idle workers (worker_enable_soft_shutdown_on_idle would
# sleep the whole timeout every time just to hand countdown retries back to Redis early;
# the sweeper re-sends those anyway).
CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT: float = env.float(
    "CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT", default=20.0
)
# Prefixed queue names let several deployments (or test runs) share one broker vhost; the
# workers' `-Q` must use the same names.
CELERY_QUEUE_PREFIX: str = env.str("CELERY_QUEUE_PREFIX", default="")
CELERY_TASK_DEFAULT_QUEUE = f"{CELERY_QUEUE_PREFIX}default"
LLM_QUEUE = f"{CELERY_QUEUE_PREFIX}llm"
# Workers consume both unless started with -Q (production runs an `llm` worker with the
# threads pool and a small `default` worker; docs/operations.md).
CELERY_TASK_QUEUES: dict[str, dict[str, object]] = {CELERY_TASK_DEFAULT_QUEUE: {}, LLM_QUEUE: {}}
# A broker that is down must not hang a request: the row is already committed as queued and
# the sweeper re-enqueues it.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
CELERY_BROKER_CONNECTION_TIMEOUT = 2.0
CELERY_TASK_ROUTES = {"tutoring.tasks.explanation_generate": {"queue": LLM_QUEUE}}
CELERY_TIMEZONE = "UTC"
CELERY_IMPORTS = ["tutoring.safety.tasks"]  # autodiscovery finds only <app>.tasks
CELERY_BEAT_SCHEDULE = {
    "sweep-explanations": {"task": "tutoring.tasks.explanations_sweep", "schedule": 60.0},
    "purge-transcripts": {"task": "tutoring.safety.tasks.transcripts_purge", "schedule": 86400.0},
    "flush-expired-tokens": {"task": "accounts.tasks.expired_tokens_flush", "schedule": 86400.0},
}

# --- LLM ------------------------------------------------------------------------------------

from config.settings_llm import *  # noqa: E402,F403

# --- Security -------------------------------------------------------------------------------

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# Shared classroom computers: a forgotten session ends the same day.
SESSION_COOKIE_AGE: int = env.int("SESSION_COOKIE_AGE", default=12 * 60 * 60)
CSRF_COOKIE_HTTPONLY = False
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# Request input (base/parsers.py): larger bodies get 413 before they are read, deeper
# JSON 400. Django's own form-body limit is kept the same.
REQUEST_BODY_MAX_BYTES: int = env.int("REQUEST_BODY_MAX_BYTES", default=1024 * 1024)
REQUEST_JSON_MAX_DEPTH: int = env.int("REQUEST_JSON_MAX_DEPTH", default=32)
DATA_UPLOAD_MAX_MEMORY_SIZE = REQUEST_BODY_MAX_BYTES

# Who may say where a request came from (base/client_address.py): empty = nobody, so
# X-Forwarded-For is ignored; a number of proxies in front of the app; or their CIDRs.
TRUSTED_PROXIES: str = env.str("TRUSTED_PROXIES", default="")
from base.client_address import parse_trusted_proxies  # noqa: E402

parse_trusted_proxies(TRUSTED_PROXIES)  # a typo stops start-up, naming the variable

# Sign-in backoff (django-axes; accounts/lockout.py): after LOGIN_FAILURE_LIMIT failures for
# one e-mail address from one client address, that pair waits LOGIN_BACKOFF_SECONDS, doubling
# with each further failure up to LOGIN_BACKOFF_MAX_SECONDS; forgotten after an hour of quiet.
AUTHENTICATION_BACKENDS = [
    "accounts.lockout.LockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_FAILURE_LIMIT: int = env.int("LOGIN_FAILURE_LIMIT", default=5)
LOGIN_BACKOFF_SECONDS: int = env.int("LOGIN_BACKOFF_SECONDS", default=30)
LOGIN_BACKOFF_MAX_SECONDS: int = env.int("LOGIN_BACKOFF_MAX_SECONDS", default=300)
AXES_ENABLED: bool = env.bool("AXES_ENABLED", default=True)
AXES_HANDLER = "accounts.lockout.BackoffHandler"
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = 1  # hour: failures older than this are forgotten
# Attempts refused during a window are not failures: hammering cannot lengthen it.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_CALLABLE = "accounts.lockout.username_of"
AXES_CLIENT_IP_CALLABLE = "base.client_address.client_address"
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"
AXES_CLIENT_STR_CALLABLE = "accounts.lockout.client_str"  # no e-mail addresses in the log
# Successful sign-ins are in the school's audit trail; axes keeps only the failures.
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False

if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    if not SECURE_HSTS_PRELOAD:
        # Preloading commits the domain (and every subdomain) to HTTPS in browsers for
        # good: the operator's decision per domain, not a default. `check --deploy` would
        # otherwise warn on every deployment that chose not to.
        SILENCED_SYSTEM_CHECKS = ["security.W021"]

# --- API ------------------------------------------------------------------------------------

from config.settings_api import *  # noqa: E402,F403

# --- Logging --------------------------------------------------------------------------------

LOG_LEVEL: str = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "filters": {
        "client_errors_without_traceback": {"()": "base.log_filters.ClientErrorWithoutTraceback"}
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # A refused request (403, 400) is one line; only 5xx carry their traceback.
        "django.request": {"filters": ["client_errors_without_traceback"]},
        # httpx logs request lines; keep them out (URLs may carry ids, never keys, but noise).
        "httpx": {"level": "WARNING"},
        "httpx2": {"level": "WARNING"},
        # axes logs every sign-in at INFO; failures and lockouts are warnings.
        "axes": {"level": "WARNING"},
    },
}
SITE_URL: str = env.str("SITE_URL", default="http://127.0.0.1:8000")
