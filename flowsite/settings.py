"""Flow Review settings, read from the environment.

Development works with no environment at all (embedded PostgreSQL under var/,
files under var/storage/). DEBUG=0 selects production, where the secrets and
hosts must be given: a missing one stops start-up with its name. Values are
parsed by environs: a malformed one (`SECURE_SSL_REDIRECT=ture`, `HSTS_SECONDS=1y`)
stops start-up with the variable's name, never becomes a silent default. Every
number has a range, and a value outside it stops start-up the same way, saying
what is allowed (`REVIEW_CLAIM_SECONDS=0` would make every review page fail).
"""

import os
import sys
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured
from environs import Env
from marshmallow.validate import Range

env = Env(expand_vars=False)


@env.parser_for("names")
def _names(value) -> list[str]:
    """A comma-separated list, each entry stripped, empty entries dropped: "a.com, b.com," is two hosts."""
    return [item.strip() for item in str(value).split(",") if item.strip()]


BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = env.path("FLOW_VAR_DIR", BASE_DIR / "var")


def env_number(name: str, default: int | float, *, low: int | float, high: int | float, unit: str):
    """A whole number (a decimal one if the default is a float) from low to high, both included.

    Outside the range, or not a number at all, start-up stops with the variable's
    name and the range: `Environment variable "UNDO_SECONDS" invalid: must be ...`.
    """
    allowed = f"{'a number' if isinstance(default, float) else 'a whole number'} of {unit} from {low} to {high}"
    parse = env.float if isinstance(default, float) else env.int
    return parse(
        name,
        default,
        validate=Range(min=low, max=high, error=f"must be {allowed}, not {{input}}"),
        error_messages={"invalid": f"must be {allowed}"},
    )


def env_required(name: str) -> str:
    value = env.str(name, "")
    if not value:
        raise ImproperlyConfigured(f"{name} must be set when DEBUG is off (production settings).")
    return value


DEBUG = env.bool("DEBUG", True)

if DEBUG:
    SECRET_KEY = env.str("SECRET_KEY", "") or "dev-only-insecure-key-do-not-use-in-production"
    ALLOWED_HOSTS = env.names("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
else:
    SECRET_KEY = env_required("SECRET_KEY")
    ALLOWED_HOSTS = _names(env_required("ALLOWED_HOSTS"))
    # HTTPS only: cookies never travel in clear, browsers remember to use
    # HTTPS (HSTS), plain HTTP is redirected. SECURE_SSL_REDIRECT=0 only when
    # the proxy in front already redirects (check --deploy then warns W008).
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", True)
    # 0 is how a site tells browsers to forget HSTS; more than two years (the
    # longest max-age browsers and the preload list honour) is a typo.
    SECURE_HSTS_SECONDS = env_number("HSTS_SECONDS", 31536000, low=0, high=2 * 365 * 86400, unit="seconds")
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env.bool("HSTS_PRELOAD", True)

# Behind a reverse proxy or load balancer that terminates TLS: trust its
# X-Forwarded-Proto, and take the client's address from X-Forwarded-For, counting
# PROXY_COUNT hops from the right (the left-most entries are the client's to forge).
BEHIND_PROXY = env.bool("BEHIND_PROXY", False)
# Behind a proxy at least one hop: 0 would take the proxy's own address for every
# client, so one guesser would lock everyone out of logging in.
PROXY_COUNT = env_number("PROXY_COUNT", 1, low=1, high=10, unit="proxies") if BEHIND_PROXY else 0
if BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Origins (scheme://host[:port]) allowed to POST besides the app's own host,
# e.g. when the proxy rewrites Host.
CSRF_TRUSTED_ORIGINS = env.names("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials.apps.SimpleAppConfig",
    # django-axes, shown in the admin as "Login security".
    "approvals.plumbing.login_security.LoginSecurityConfig",
    "approvals",
]

MIDDLEWARE = [
    # First: every response, redirects and errors included, carries the request id.
    "approvals.plumbing.request_context.RequestContextMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "approvals.plumbing.security_headers.ContentSecurityPolicyMiddleware",
    # Last, as django-axes requires: turns a locked-out login into its response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "flowsite.urls"
WSGI_APPLICATION = "flowsite.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # The admin's frame (admin/base_site.html): name and favicon of the ops console.
        "DIRS": [BASE_DIR / "flowsite" / "templates"],
        "APP_DIRS": False,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
            # Partials as builtins: templates use {% partialdef %} without
            # {% load %}, which is Django 6's syntax. stored_dates replaces
            # Django's `date` filter for timestamps Python cannot hold.
            "builtins": ["template_partials.templatetags.partials", "approvals.templatetags.stored_dates"],
            "loaders": [
                (
                    "template_partials.loader.Loader",
                    [
                        (
                            "django.template.loaders.cached.Loader",
                            [
                                "django.template.loaders.filesystem.Loader",
                                "django.template.loaders.app_directories.Loader",
                            ],
                        )
                    ],
                )
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------
# DATABASE_URL (Supabase or any PostgreSQL 15+) when set; otherwise an embedded
# PostgreSQL (pgserver) with its data under var/pgdata, started on first use.
# Django's own tables live in their own schema, never in public, which
# Supabase's Data API exposes.
DJANGO_SCHEMA = env.str("DJANGO_SCHEMA", "django")
SQL_MIGRATIONS_DIR = env.path("SQL_MIGRATIONS_DIR", BASE_DIR / "migrations_sql")


def database_from_url(url: str) -> dict:
    parts = urlsplit(url)
    if parts.scheme not in {"postgres", "postgresql"}:
        raise ImproperlyConfigured(f"DATABASE_URL must be a postgresql:// URL, not {parts.scheme}://")
    query = dict(parse_qsl(parts.query))
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": unquote(parts.path.lstrip("/")) or "postgres",
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": query.pop("host", parts.hostname or ""),
        "PORT": str(parts.port or ""),
        "OPTIONS": query,
    }


if env.str("DATABASE_URL", ""):
    _database = database_from_url(env.str("DATABASE_URL"))
else:
    _database = {
        "ENGINE": "approvals.plumbing.embedded_postgres",
        "NAME": "postgres",
        "USER": "postgres",
        "PASSWORD": "",
        "HOST": str(VAR_DIR / "pgdata"),
        "PORT": "",
        "OPTIONS": {},
    }
# libpq waits forever for 0 or less and counts 1 as 2; past a minute the proxy in
# front gives up first, and the reviewer sees its error instead of our 503.
_database["OPTIONS"] = {
    "connect_timeout": env_number("DATABASE_CONNECT_TIMEOUT", 5, low=2, high=60, unit="seconds"),
    "options": f"-c search_path={DJANGO_SCHEMA},public",
    **_database["OPTIONS"],
}
# runserver (what `make run` serves) starts a thread per request, and each
# thread would keep a connection of its own for CONN_MAX_AGE: a team of eight
# ran the database out of connections. Django's docs: persistent connections
# are wasted under the development server. Elsewhere (gunicorn) they are kept.
RUNNING_DEVSERVER = sys.argv[1:2] == ["runserver"]
# 0 closes the connection after each request; beyond an hour a kept connection
# only holds a server slot that a pooler's or the server's idle timeout ends anyway.
_database["CONN_MAX_AGE"] = env_number("CONN_MAX_AGE", 0 if RUNNING_DEVSERVER else 60, low=0, high=3600, unit="seconds")
_database["CONN_HEALTH_CHECKS"] = True
# A transaction-mode pooler (Supabase's on port 6543) hands each transaction to
# any server connection: a named cursor (QuerySet.iterator()) would outlive its
# transaction's connection, and a prepared statement may not exist on the next.
_behind_transaction_pooler = _database["PORT"] == "6543"
_database["DISABLE_SERVER_SIDE_CURSORS"] = env.bool("DATABASE_DISABLE_SERVER_SIDE_CURSORS", _behind_transaction_pooler)
# Elsewhere, statements a connection runs again are prepared (from the second
# run on): the queue's statement takes longer to plan than to run.
if env.bool("DATABASE_PREPARED_STATEMENTS", not _behind_transaction_pooler):
    _database["OPTIONS"] |= {"server_side_binding": True, "prepare_threshold": 2}
_database["TEST"] = {"NAME": env.str("TEST_DATABASE_NAME", "") or None}
DATABASES = {"default": _database}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Files --------------------------------------------------------------------
STORAGE_BUCKET = "flow-artifacts"
STORAGE_ROOT = env.path("STORAGE_ROOT", VAR_DIR / "storage" / STORAGE_BUCKET)

# Thumbnails are derived data: kept on local disk beside the app, never written
# into the pipeline's bucket (the app only needs read access there).
THUMBNAIL_CACHE_DIR = env.path("THUMBNAIL_CACHE_DIR", VAR_DIR / "cache" / "thumbnails")


def s3_storage(environ) -> dict:
    """Supabase Storage (or any S3 service) through its S3-compatible endpoint.

    Path-style addressing and SigV4 are what Supabase's endpoint accepts; short
    timeouts and few retries so an outage shows a notice in seconds, not minutes.
    """
    from botocore.config import Config

    def required(name: str) -> str:
        value = environ.get(name, "")
        if not value:
            raise ImproperlyConfigured(f"{name} must be set when STORAGE_BACKEND=s3.")
        return value

    def seconds(name: str, default: float, *, low: float, high: float) -> float:
        # A comparison with nan is false, so nan is refused with the rest.
        try:
            value = float(environ.get(name) or default)
        except ValueError:
            value = None
        if value is None or not low <= value <= high:
            raise ImproperlyConfigured(
                f"{name} must be a number of seconds from {low:g} to {high:g}, not {environ[name]!r}."
            )
        return value

    return {
        "BACKEND": "approvals.files.s3.S3ArtifactStorage",
        "OPTIONS": {
            "bucket_name": environ.get("S3_BUCKET") or STORAGE_BUCKET,
            "endpoint_url": required("S3_ENDPOINT_URL"),
            "region_name": required("S3_REGION"),
            "access_key": required("S3_ACCESS_KEY_ID"),
            "secret_key": required("S3_SECRET_ACCESS_KEY"),
            "default_acl": None,
            "querystring_auth": True,
            "file_overwrite": False,
            "client_config": Config(
                signature_version="s3v4",
                s3={"addressing_style": "path"},
                # 0 makes every request fail at once; past a minute to connect, or five
                # minutes for one read (of a chunk, not the whole file), storage is down.
                connect_timeout=seconds("S3_CONNECT_TIMEOUT", 3.0, low=0.1, high=60),
                read_timeout=seconds("S3_READ_TIMEOUT", 20.0, low=1, high=300),
                retries={"max_attempts": 2, "mode": "standard"},
                # S3-compatible services do not all accept the CRC checksums
                # recent botocore adds to every request by default.
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
            ),
        },
    }


STORAGE_BACKEND = env.str("STORAGE_BACKEND", "local").strip().lower()
if STORAGE_BACKEND == "s3":
    _artifact_storage = s3_storage(os.environ)
elif STORAGE_BACKEND == "local":
    _artifact_storage = {
        "BACKEND": "approvals.files.storage.LocalArtifactStorage",
        "OPTIONS": {"location": str(STORAGE_ROOT)},
    }
else:
    raise ImproperlyConfigured(f"STORAGE_BACKEND must be 'local' or 's3', not {STORAGE_BACKEND!r}.")

STORAGES = {
    "default": _artifact_storage,
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        ),
    },
}

# --- Caches ---------------------------------------------------------------------
# In each worker's memory: nothing here needs sharing between workers. The
# default cache remembers sniffed media types (keyed by object version).
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "flow-review"},
}

STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", BASE_DIR / "staticfiles")

# --- Auth and sessions --------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    # Refuses a locked-out account or address before the password is checked.
    "axes.backends.AxesStandaloneBackend",
    "approvals.plumbing.auth_backend.OneQueryModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "queue"
LOGOUT_REDIRECT_URL = "login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Argon2 first (argon2-cffi): logins at PBKDF2's default cost took 1.2-1.9 s here; older hashes upgrade on login.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]

LANGUAGE_CODE = "en-us"
# One date format in the app and the admin: ISO 8601. The locale's formats
# win over DATE_FORMAT, so flowsite/formats/en says the same.
DATE_FORMAT = "Y-m-d"
DATETIME_FORMAT = "Y-m-d H:i"
FORMAT_MODULE_PATH = ["flowsite.formats"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Login throttling (django-axes) -------------------------------------------
# Failures are counted per username from one client address, and per client
# address alone (in the database, so every worker sees them): the second also
# stops one address trying a few passwords on many usernames. Reaching the
# limit refuses logins from that address until the cool-off passes. A username
# alone is never locked: otherwise anyone could keep any account locked from
# anywhere (the owner logs in from their own address meanwhile). Failures during a lockout are not recorded, so they do
# not restart the cool-off. Usernames that do not exist are counted the same
# way, so the answer never reveals whether an account exists. A success does
# not reset the counts: otherwise one valid account would wipe an address's failures.
# Fewer than 3 failures would lock an office's shared address over two typos, more
# than 100 is no throttle; a cool-off of 0 lifts every lock at once, and one over a
# day lets a few guesses keep an address out for longer than a working day.
AXES_FAILURE_LIMIT = env_number("LOGIN_FAILURE_LIMIT", 5, low=3, high=100, unit="failures")
AXES_COOLOFF_TIME = timedelta(minutes=env_number("LOGIN_COOLOFF_MINUTES", 15, low=1, high=1440, unit="minutes"))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_RESET_ON_SUCCESS = False
AXES_CLIENT_IP_CALLABLE = "approvals.plumbing.request_context.client_ip"
AXES_LOCKOUT_CALLABLE = "approvals.plumbing.lockout.lockout_response"
AXES_VERBOSE = False

# --- Logging --------------------------------------------------------------------
# One line per event on stdout, with the request id and the user of the request
# being served: JSON in production (for the log collector), key=value in development.
LOG_LEVEL = env.str("LOG_LEVEL", "INFO").upper()
LOG_FORMAT = env.str("LOG_FORMAT", "text" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_context": {"()": "approvals.plumbing.request_context.RequestContextFilter"},
        "database_outage": {"()": "approvals.plumbing.error_views.CondenseDatabaseOutage"},
    },
    "formatters": {"line": {"()": "approvals.plumbing.request_context.LineFormatter", "style_name": LOG_FORMAT}},
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "filters": ["request_context", "database_outage"],
            "formatter": "line",
        }
    },
    "root": {"handlers": ["stdout"], "level": LOG_LEVEL},
    "loggers": {
        # Django's own handlers print to stderr only with DEBUG on; route it all here instead.
        "django": {"handlers": ["stdout"], "level": LOG_LEVEL, "propagate": False},
        "axes": {"level": "WARNING"},
        # The embedded server's package narrates every start and exit at INFO.
        "pgserver": {"level": "WARNING"},
    },
}

# --- Team review: claims, live updates, undo -------------------------------------
# Opening an item claims it for this long; the open page renews the claim, so
# it lapses only when the page is gone (closed tab, lost network). The page
# renews every fifth of the claim, but at most every 5 s: under 30 s one late
# renewal lets the claim lapse under an open page (and 0 is refused by the
# table's check, a 500 on every review page); over a day, a closed tab keeps
# its item from everyone else until tomorrow.
REVIEW_CLAIM_SECONDS = env_number("REVIEW_CLAIM_SECONDS", 300, low=30, high=86400, unit="seconds")
# How often an open queue or review page asks whether anything changed. 0
# would render htmx's `every 0s`, a request storm from every open page; past
# a minute "live" is no longer live, and two reviewers work the same item.
LIVE_POLL_SECONDS = env_number("LIVE_POLL_SECONDS", 2, low=1, high=60, unit="seconds")
# How long after a decision its reviewer may undo it. Under 5 s the button is
# gone before a reviewer can reach it; past an hour an undo would be a reopen
# of an old decision, which needs the Leads' permission.
UNDO_SECONDS = env_number("UNDO_SECONDS", 30, low=5, high=3600, unit="seconds")
