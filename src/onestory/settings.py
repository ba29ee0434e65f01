"""OneStory settings: every setting that varies between machines comes from the environment.

Read once, here. Defaults give a safe local installation on the embedded SQLite database in
``ONESTORY_DATA_DIR`` (``./var``); ``DATABASE_URL`` switches to PostgreSQL.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent
REPO_DIR = BASE_DIR.parent.parent


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DATA_DIR = Path(os.environ.get("ONESTORY_DATA_DIR", "var")).resolve()
# ONESTORY_PRODUCTION=1 turns the local defaults into refusals: a deployment must say its
# keys and hosts, and is served over HTTPS only (docs/adr/0013-hardening.md).
PRODUCTION = _env_bool("ONESTORY_PRODUCTION", False)
DEBUG = _env_bool("ONESTORY_DEBUG", False)
_LOCAL_SECRET = "insecure-local-only-onestory-secret-key-change-me"  # noqa: S105
# The fallback exists so a fresh checkout runs; production refuses it (below).
SECRET_KEY = os.environ.get("ONESTORY_SECRET_KEY", _LOCAL_SECRET)
# A separate key for the audit chain, so rotating the session key never breaks verification.
AUDIT_HMAC_KEY = os.environ.get("ONESTORY_AUDIT_KEY", "onestory-audit-chain-" + SECRET_KEY)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _production_problems() -> list[str]:
    problems = []
    if DEBUG:
        problems.append("ONESTORY_DEBUG must be off")
    if SECRET_KEY == _LOCAL_SECRET or len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5:
        problems.append(
            "ONESTORY_SECRET_KEY must be set to a random value of 50 or more characters"
        )
    if "ONESTORY_AUDIT_KEY" not in os.environ or len(AUDIT_HMAC_KEY) < 32:
        problems.append(
            "ONESTORY_AUDIT_KEY must be set (32 or more characters) and kept apart from the "
            "secret key, so the audit chain survives a key rotation"
        )
    if "ONESTORY_ALLOWED_HOSTS" not in os.environ:
        problems.append("ONESTORY_ALLOWED_HOSTS must name the host names the service answers to")
    return problems


if PRODUCTION and (_problems := _production_problems()):
    raise ImproperlyConfigured(
        "OneStory will not start in production: " + "; ".join(_problems) + "."
    )
ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("ONESTORY_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",")
    if h.strip()
]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("ONESTORY_CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "axes",
    "onestory.core",
    "onestory.access",
    "onestory.audit",
    "onestory.people",
    "onestory.consent",
    "onestory.intake",
    "onestory.casework",
    "onestory.referrals",
    "onestory.meetings",
    "onestory.directory",
    "onestory.insight",
    "onestory.voice",
    "onestory.measures",
    "onestory.governance",
    "onestory.partner_api",
]

MIDDLEWARE = [
    # First: every log line of the request carries its id.
    "onestory.core.logs.RequestIdMiddleware",
    # Before the host check and HTTPS redirect: probes call the container over plain HTTP
    # by its address (docs/adr/0021-deployment.md).
    "onestory.core.health.HealthMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # After WhiteNoise (static files stay cacheable), before everything that can answer early
    # (redirects to sign in, 404s): no page is kept by a browser or proxy cache.
    "onestory.core.middleware.NoStoreMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "onestory.core.middleware.IdleTimeoutMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "axes.middleware.AxesMiddleware",
    # Ours, in this order: MFA first, then the acting membership, then deny-by-default
    # (which needs both), then the audit trail around the view.
    "onestory.access.middleware.RequireMFAMiddleware",
    "onestory.access.middleware.ActingMembershipMiddleware",
    # PostgreSQL's row-level security learns who is acting (the second layer, ADR 0022).
    "onestory.access.middleware.RowLevelSecurityMiddleware",
    "onestory.access.middleware.DenyByDefaultMiddleware",
    "onestory.audit.middleware.AuditMiddleware",
]

ROOT_URLCONF = "onestory.urls"
WSGI_APPLICATION = "onestory.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "onestory.core.context_processors.onestory",
            ],
        },
    }
]

DATA_DIR.mkdir(parents=True, exist_ok=True)
_default_db = f"sqlite:///{DATA_DIR / 'onestory.sqlite3'}"
# Production keeps each worker thread's database connection for a minute (checked before
# reuse) instead of opening one per request: on PostgreSQL a new connection is a new server
# process, which cost more than the person page's queries under load (bench/results/load.md).
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", _default_db),
        conn_max_age=int(os.environ.get("ONESTORY_DB_CONN_MAX_AGE", "60" if PRODUCTION else "0")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Parameters bound by the server, and a statement run five times on a connection is
    # prepared: the row-level security policies make planning dearer than running most of
    # the person page's queries (bench/results/load.md). A deployment behind a pooler in
    # transaction mode, where prepared statements do not survive, sets
    # ONESTORY_DB_PREPARED_STATEMENTS=0 (docs/deploy.md).
    # No JIT compilation: the policies' look-ups inflate the planner's cost estimates past
    # jit_above_cost, and compiling then took 138 ms of a 156 ms caseload query (short
    # queries, as a web application's are, never repay it).
    DATABASES["default"]["OPTIONS"] = {"options": "-c jit=off"}
    if _env_bool("ONESTORY_DB_PREPARED_STATEMENTS", True):
        DATABASES["default"]["OPTIONS"] |= {"server_side_binding": True, "prepare_threshold": 5}
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE transactions take the write lock up front, so the audit chain and version
    # checks serialise instead of failing with "database is locked" half way through.
    # Temporary tables (the bulk writers stage a million rows in one) in memory, not in
    # temporary files.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA temp_store = MEMORY",
    }
    DATABASES["default"]["TEST"] = (
        {"NAME": str(DATA_DIR / "test.sqlite3")}
        if _env_bool("ONESTORY_TEST_DB_ON_DISK", False)
        else {}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "access.User"

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
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Sign-in: django-allauth with a username, no sign-up (administrators create accounts).
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
ACCOUNT_LOGIN_METHODS = {"username"}
ACCOUNT_SIGNUP_FIELDS = ["username*", "password1*"]
ACCOUNT_ADAPTER = "onestory.access.adapters.AccountAdapter"
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_REAUTHENTICATION_TIMEOUT = 600
# Single sign-on for partner staff through OpenID Connect (Microsoft Entra ID, NHS CIS2, ...):
# ONESTORY_OIDC_PROVIDERS is a JSON list of {"provider_id", "name", "client_id", "secret",
# "server_url"}. Accounts are still created by administrators: a sign-in connects to the
# account whose email the provider has verified, and never creates one (ADR 0015).
SOCIALACCOUNT_ADAPTER = "onestory.access.adapters.SocialAccountAdapter"
_OIDC = json.loads(os.environ.get("ONESTORY_OIDC_PROVIDERS", "[]"))
SOCIALACCOUNT_PROVIDERS = {
    "openid_connect": {
        "OAUTH_PKCE_ENABLED": True,
        "APPS": [
            {
                "provider_id": app["provider_id"],
                "name": app["name"],
                "client_id": app["client_id"],
                "secret": app["secret"],
                "settings": {"server_url": app["server_url"], "fetch_userinfo": True},
            }
            for app in _OIDC
        ],
    }
}
SOCIALACCOUNT_LOGIN_ON_GET = False
SOCIALACCOUNT_EMAIL_AUTHENTICATION = True
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = True
SOCIALACCOUNT_AUTO_SIGNUP = False
SOCIALACCOUNT_STORE_TOKENS = False
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "OneStory"
MFA_ADAPTER = "onestory.access.adapters.MFAAdapter"

# Lockout after repeated failures (django-axes).
AXES_ENABLED = _env_bool("ONESTORY_AXES_ENABLED", True)
AXES_FAILURE_LIMIT = int(os.environ.get("ONESTORY_AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = 0.5  # hours
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_USERNAME_CALLABLE = "onestory.access.adapters.axes_username"
AXES_LOCKOUT_TEMPLATE = "access/locked_out.html"
# Lock by username, not IP: partner staff sit behind shared NHS and council gateways, so an
# IP lock would let one typo-prone colleague lock out a whole hospital.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]

# Idle timeout: the session lasts this long after the last request.
SESSION_COOKIE_AGE = int(os.environ.get("ONESTORY_IDLE_TIMEOUT_SECONDS", str(30 * 60)))
# The idle timeout: IdleTimeoutMiddleware renews the expiry at most once a minute.
SESSION_SAVE_EVERY_REQUEST = False
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# HTTPS only in production (unless a deployment says otherwise): secure cookies, a
# redirect from plain HTTP and a year of HSTS.
_https = _env_bool("ONESTORY_HTTPS", PRODUCTION)
SESSION_COOKIE_SECURE = _https
CSRF_COOKIE_SECURE = _https
SECURE_SSL_REDIRECT = _https
SECURE_HSTS_SECONDS = 31536000 if _https else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = _https
SECURE_HSTS_PRELOAD = _https
# Behind a reverse proxy that ends TLS, trust its X-Forwarded-Proto (only then: a client
# could send the header itself).
if _env_bool("ONESTORY_BEHIND_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Strict Content Security Policy: no inline script or style anywhere; the one inline script
# (the GOV.UK "js-enabled" class) carries the per-request nonce.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    # Signing in with single sign-on posts a form that is answered with a redirect to the
    # identity provider: its origin must be a permitted form target.
    "form-action": [CSP.SELF, *sorted({_origin(app["server_url"]) for app in _OIDC})],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "object-src": [CSP.NONE],
}

STATIC_URL = "/static/"
# A container image collects static files at build time, outside the data volume.
STATIC_ROOT = Path(os.environ.get("ONESTORY_STATIC_ROOT", str(DATA_DIR / "static"))).resolve()
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
NODE_MODULES = REPO_DIR / "node_modules"
STATICFILES_DIRS = [
    ("govuk", NODE_MODULES / "govuk-frontend" / "dist" / "govuk"),
    ("htmx", NODE_MODULES / "htmx.org" / "dist"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# GOV.UK Frontend's compiled CSS asks for fonts and images at /assets/ (the site root).
WHITENOISE_ROOT = NODE_MODULES / "govuk-frontend" / "dist" / "govuk"
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

EMAIL_BACKEND = os.environ.get(
    "ONESTORY_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend"
)
DEFAULT_FROM_EMAIL = os.environ.get("ONESTORY_FROM_EMAIL", "onestory@localhost")

NINJA_PAGINATION_PER_PAGE = 50
# The most items one page of an API list may hold (?limit= above it is refused with 422).
NINJA_PAGINATION_MAX_LIMIT = 200

# JSON lines with the request id in production (a log collector reads them), plain text on
# a developer's terminal; ONESTORY_LOG_FORMAT=json|text overrides.
_LOG_FORMAT = os.environ.get("ONESTORY_LOG_FORMAT", "json" if PRODUCTION else "text")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "onestory.core.logs.JsonFormatter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            **({"formatter": "json"} if _LOG_FORMAT == "json" else {}),
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("ONESTORY_LOG_LEVEL", "WARNING")},
    # Splink warns about every comparison level a small dataset never shows; the summary
    # line of `onestory link` says what a data manager needs.
    "loggers": {
        "splink": {"level": os.environ.get("ONESTORY_SPLINK_LOG_LEVEL", "ERROR")},
        # One line per background job run (onestory worker).
        "onestory.worker": {"level": "INFO"},
    },
}

# Partnership settings (DOMAIN.md): defaults the partnership may change.
# Uploads: feeds are read from a temporary file, never kept in memory whole.
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# Rate limits on pages reachable without an account are counted in the database, so every
# web worker sees the same counts.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "ratelimit": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "onestory_ratelimit",
    },
}
RATELIMIT_USE_CACHE = "ratelimit"

DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
ONESTORY_MAX_UPLOAD_BYTES = int(os.environ.get("ONESTORY_MAX_UPLOAD_MB", "100")) * 1024 * 1024

ONESTORY: dict[str, Any] = {
    # Break glass (SECURITY.md rule 7) opens a record read-only for this many hours.
    "BREAK_GLASS_HOURS": float(os.environ.get("ONESTORY_BREAK_GLASS_HOURS", "4")),
    "SHARING_REVIEW_MONTHS": 12,
    # Linkage: pairs at or above the match threshold link automatically; pairs from the
    # review threshold up to it wait in the review queue for a data manager.
    "LINK_MATCH_THRESHOLD": float(os.environ.get("ONESTORY_LINK_MATCH_THRESHOLD", "0.95")),
    "LINK_REVIEW_THRESHOLD": float(os.environ.get("ONESTORY_LINK_REVIEW_THRESHOLD", "0.5")),
    # Casework (DOMAIN.md principles): small caseloads, persistent contact.
    "CASELOAD_CAP": int(os.environ.get("ONESTORY_CASELOAD_CAP", "10")),
    "NOT_SEEN_DAYS": int(os.environ.get("ONESTORY_NOT_SEEN_DAYS", "14")),
    # Open barriers older than this are escalated on the board (issue 7).
    "BARRIER_ESCALATE_DAYS": int(os.environ.get("ONESTORY_BARRIER_ESCALATE_DAYS", "90")),
    # Closing as "declined" needs a multi-agency review held within this many days.
    "DECLINE_REVIEW_DAYS": int(os.environ.get("ONESTORY_DECLINE_REVIEW_DAYS", "90")),
    # Referrals: the receiving organisation replies within this many days.
    "REFERRAL_RESPONSE_DAYS": int(os.environ.get("ONESTORY_REFERRAL_RESPONSE_DAYS", "5")),
    # Publishing small numbers (DOMAIN.md): suppress figures from 1-7 people; round to 5.
    "SUPPRESS_AT_OR_BELOW": int(os.environ.get("ONESTORY_SUPPRESS_AT_OR_BELOW", "7")),
    "ROUND_TO": int(os.environ.get("ONESTORY_ROUND_TO", "5")),
    # The SMD cohort (feeds.md): domains needed, window in months, minimum age.
    "COHORT_MIN_DOMAINS": int(os.environ.get("ONESTORY_COHORT_MIN_DOMAINS", "3")),
    "COHORT_MONTHS": int(os.environ.get("ONESTORY_COHORT_MONTHS", "12")),
    "COHORT_MIN_AGE": int(os.environ.get("ONESTORY_COHORT_MIN_AGE", "18")),
    # High intensity use of ED (DOMAIN.md): NHS England and British Red Cross thresholds.
    "HIU_NHS_MONTH_OVER": int(os.environ.get("ONESTORY_HIU_NHS_MONTH_OVER", "5")),
    "HIU_NHS_YEAR_OVER": int(os.environ.get("ONESTORY_HIU_NHS_YEAR_OVER", "20")),
    "HIU_BRC_YEAR_AT_LEAST": int(os.environ.get("ONESTORY_HIU_BRC_YEAR_AT_LEAST", "5")),
    # Retention (issue 9): a person's record is reviewed for destruction this many years
    # after their last contact; mental health entries are kept longer.
    "RETENTION_YEARS": int(os.environ.get("ONESTORY_RETENTION_YEARS", "8")),
    "RETENTION_MENTAL_HEALTH_YEARS": int(
        os.environ.get("ONESTORY_RETENTION_MENTAL_HEALTH_YEARS", "20")
    ),
    # Managers confirm each role in their organisation at least this often; someone not
    # signed in for this many days is shown as a likely leaver.
    "ACCESS_REVIEW_MONTHS": int(os.environ.get("ONESTORY_ACCESS_REVIEW_MONTHS", "6")),
    "DORMANT_DAYS": int(os.environ.get("ONESTORY_DORMANT_DAYS", "90")),
    # Partner API clients (ADR 0019): a token lasts this many days unless its maker chooses
    # otherwise (never more than the maximum); when it is rotated the old one keeps working
    # for the overlap, so the partner can deploy the new one.
    "API_TOKEN_DAYS": int(os.environ.get("ONESTORY_API_TOKEN_DAYS", "90")),
    "API_TOKEN_MAX_DAYS": int(os.environ.get("ONESTORY_API_TOKEN_MAX_DAYS", "365")),
    "API_TOKEN_OVERLAP_HOURS": int(os.environ.get("ONESTORY_API_TOKEN_OVERLAP_HOURS", "24")),
    # Requests each API client (or signed-in user) may make per window, counted in the shared
    # rate-limit cache: "N/s", "N/m", "N/h" or "N/d". Over it: 429 with Retry-After.
    "API_RATE": os.environ.get("ONESTORY_API_RATE", "600/m"),
    # Feed rows one request may send (more: send several requests).
    "API_MAX_ROWS": int(os.environ.get("ONESTORY_API_MAX_ROWS", "1000")),
    # Safeguarding concerns go to the organisation of this type.
    "SAFEGUARDING_ROUTES": {"adult": "adult_social_care", "child": "childrens_services"},
}
