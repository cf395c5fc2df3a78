"""Settings for EduPilot.

One module, driven by environment variables with embedded defaults: with nothing set,
EduPilot runs on SQLite (WAL), local file storage and a SQLite-backed task queue under
``EDUPILOT_DATA_DIR`` (default ``./var``). Every variable is documented in
docs/deployment.md. Policy (deadlines, quotas, weights) never lives here: it lives in
programme files and the database.
"""

import json
import os
import secrets
from pathlib import Path

import dj_database_url
from csp import constants as csp_constants
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BASE_DIR.parent


def env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def env_bool(name: str, default: bool = False) -> bool:
    value = env(name)
    if value is None:
        return default
    return value.lower() in ("1", "true", "yes", "on")


DATA_DIR = Path(env("EDUPILOT_DATA_DIR", str(PROJECT_DIR / "var"))).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    key = env("DJANGO_SECRET_KEY")
    if key:
        return key
    # Embedded default: a random key kept beside the data, so sessions survive restarts.
    path = DATA_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("EDUPILOT_DEBUG", False)
ALLOWED_HOSTS = (env("EDUPILOT_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver") or "").split(
    ","
)
CSRF_TRUSTED_ORIGINS = [o for o in (env("EDUPILOT_CSRF_TRUSTED_ORIGINS", "") or "").split(",") if o]
BASE_URL = env("EDUPILOT_BASE_URL", "http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    # django-ninja's API docs then use its bundled Swagger files (no CDN, no inline script).
    "ninja",
    "axes",
    "django_password_validators.password_history",
    "huey.contrib.djhuey",
    "edupilot.core",
    "edupilot.audit",
    "edupilot.orgs",
    "edupilot.accounts",
    "edupilot.programmes",
    "edupilot.applications",
    "edupilot.review",
    "edupilot.selection",
    "edupilot.pilots",
    "edupilot.certification",
    "edupilot.documents",
    "edupilot.dashboards",
    "edupilot.tokens",
    "edupilot.api",
]

MIDDLEWARE = [
    "edupilot.core.middleware.TrustedProxyMiddleware",
    "edupilot.core.middleware.RequestTooLargeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "edupilot.core.middleware.ChineseByDefaultMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "edupilot.core.middleware.InputCleaningMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "edupilot.core.middleware.NoStoreWhenLoggedInMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "edupilot.accounts.middleware.ActiveMembershipMiddleware",
    "edupilot.accounts.middleware.ForcePasswordChangeMiddleware",
    "edupilot.core.middleware.RefusedMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "edupilot.urls"
WSGI_APPLICATION = "edupilot.wsgi.application"

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
                "edupilot.core.context_processors.edupilot",
            ],
        },
    },
]

# --- database -------------------------------------------------------------------------
SQLITE_PATH = DATA_DIR / "edupilot.sqlite3"
DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{SQLITE_PATH}"),
        conn_max_age=int(env("DB_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets readers proceed while one writer writes; IMMEDIATE takes the write lock at
        # BEGIN so two writers queue instead of failing with "database is locked" mid-way.
        "init_command": (
            "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;PRAGMA busy_timeout=10000;"
            "PRAGMA foreign_keys=ON;PRAGMA cache_size=-20000;"
        ),
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- cache and task queue ---------------------------------------------------------------
REDIS_URL = env("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
    HUEY = {
        "huey_class": "huey.RedisHuey",
        "name": "edupilot",
        "url": REDIS_URL,
        "immediate": env_bool("EDUPILOT_TASKS_IMMEDIATE", False),
        "consumer": {"workers": int(env("EDUPILOT_WORKERS", "2")), "worker_type": "thread"},
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": "edupilot",
        "filename": str(DATA_DIR / "tasks.sqlite3"),
        "immediate": env_bool("EDUPILOT_TASKS_IMMEDIATE", False),
        "consumer": {"workers": int(env("EDUPILOT_WORKERS", "2")), "worker_type": "thread"},
    }

# --- auth --------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    # Single sign-on (OIDC): inert unless the EDUPILOT_OIDC_* settings below are set.
    "edupilot.accounts.sso.OIDCBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 8},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    # No reuse of the last 5 passwords (issue 12 §5): django-password-validators' history.
    {"NAME": "edupilot.accounts.passwords.RecentPasswordsValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "accounts:login"
SESSION_COOKIE_AGE = 60 * 60 * 12
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
SESSION_COOKIE_SECURE = env_bool("EDUPILOT_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# Behind a reverse proxy (deploy/nginx): the addresses of the proxies, whose X-Forwarded-For
# gives the client's address and whose X-Forwarded-Proto says whether the client used HTTPS.
EDUPILOT_TRUSTED_PROXIES = [
    p.strip() for p in (env("EDUPILOT_TRUSTED_PROXIES", "") or "").split(",") if p.strip()
]
if EDUPILOT_TRUSTED_PROXIES:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- single sign-on (OpenID Connect, mozilla-django-oidc; docs/deployment.md) -----------------
# A bureau's identity provider may log its people in; each login is matched to an existing
# account by one claim (never creates an account or a membership). Off unless all of the
# endpoints, the client id and the secret are set; password login stays.
OIDC_OP_AUTHORIZATION_ENDPOINT = env("EDUPILOT_OIDC_AUTHORIZATION_ENDPOINT", "")
OIDC_OP_TOKEN_ENDPOINT = env("EDUPILOT_OIDC_TOKEN_ENDPOINT", "")
OIDC_OP_USER_ENDPOINT = env("EDUPILOT_OIDC_USERINFO_ENDPOINT", "")
OIDC_OP_JWKS_ENDPOINT = env("EDUPILOT_OIDC_JWKS_ENDPOINT", "")
OIDC_RP_CLIENT_ID = env("EDUPILOT_OIDC_CLIENT_ID", "")
OIDC_RP_CLIENT_SECRET = env("EDUPILOT_OIDC_CLIENT_SECRET", "")
OIDC_RP_SIGN_ALGO = env("EDUPILOT_OIDC_SIGN_ALGO", "RS256")
OIDC_RP_SCOPES = env("EDUPILOT_OIDC_SCOPES", "openid profile email")
OIDC_USE_PKCE = True
OIDC_CREATE_USER = False
OIDC_TIMEOUT = 10
OIDC_AUTHENTICATION_CALLBACK_URL = "accounts:sso_callback"
# The claim that names the account, and the account field it must equal (username or email).
EDUPILOT_OIDC_MATCH_CLAIM = env("EDUPILOT_OIDC_MATCH_CLAIM", "preferred_username")
EDUPILOT_OIDC_MATCH_FIELD = env("EDUPILOT_OIDC_MATCH_FIELD", "username")
# What the login page's button says, e.g. "河南省教育厅统一身份认证登录".
EDUPILOT_OIDC_LABEL = env("EDUPILOT_OIDC_LABEL", "")

# django-axes: lock an account (per username + IP) after repeated failures.
AXES_FAILURE_LIMIT = int(env("EDUPILOT_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = float(env("EDUPILOT_LOGIN_COOLOFF_HOURS", "0.5"))
# Per account and address: one school behind a shared NAT address does not lock out its
# neighbours, and a guesser rotating cookies still hits the limit for that account.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked.html"
AXES_VERBOSE = False

# --- i18n ----------------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- files -----------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env("EDUPILOT_STATIC_ROOT", str(DATA_DIR / "static")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(env("EDUPILOT_MEDIA_ROOT", str(DATA_DIR / "media")))
MEDIA_URL = "/media/"
_storage_backend = env("EDUPILOT_STORAGE_BACKEND", "django.core.files.storage.FileSystemStorage")
_storage_options = json.loads(env("EDUPILOT_STORAGE_OPTIONS", "{}") or "{}")
if _storage_backend.endswith("FileSystemStorage"):
    _storage_options.setdefault("location", str(MEDIA_ROOT))
STORAGES = {
    "default": {"BACKEND": _storage_backend, "OPTIONS": _storage_options},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
        if not env_bool("EDUPILOT_TESTING")
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = True
# Uploads: the largest single file a form may declare; each field may set a lower limit.
EDUPILOT_MAX_UPLOAD_MB = int(env("EDUPILOT_MAX_UPLOAD_MB", "50"))
# A request whose body is larger than this is refused (413) before it is read: the largest
# file any form accepts (a programme's attachment field or a certification import, 200 MB)
# plus room for the other fields.
EDUPILOT_MAX_REQUEST_MB = int(
    env("EDUPILOT_MAX_REQUEST_MB", str(max(EDUPILOT_MAX_UPLOAD_MB, 200) + 10))
)
# An uploaded PDF whose compressed streams inflate past this in total is refused (a "bomb").
EDUPILOT_PDF_MAX_INFLATED_MB = int(env("EDUPILOT_PDF_MAX_INFLATED_MB", "256"))
# Uploaded images and Office files (applications.evidencecheck): an image decoding to more
# pixels, or an Office file inflating to more, is refused.
EDUPILOT_IMAGE_MAX_PIXELS = int(env("EDUPILOT_IMAGE_MAX_PIXELS", "60000000"))
EDUPILOT_OFFICE_MAX_INFLATED_MB = int(env("EDUPILOT_OFFICE_MAX_INFLATED_MB", "200"))
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 5000

# --- e-mail ------------------------------------------------------------------------------------
EMAIL_BACKEND = env(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if env("EMAIL_HOST")
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_HOST = env("EMAIL_HOST", "127.0.0.1")
EMAIL_PORT = int(env("EMAIL_PORT", "25"))
EMAIL_HOST_USER = env("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "EduPilot <noreply@edupilot.local>")

# --- audit checkpoints (see edupilot/audit/checkpoints.py and docs/deployment.md) ----------------
# The HMAC key that signs checkpoints of the audit chain: EDUPILOT_AUDIT_KEY, else a key file
# (generated on first use). Keep either out of reach of whoever can write the database.
EDUPILOT_AUDIT_KEY = env("EDUPILOT_AUDIT_KEY", "")
EDUPILOT_AUDIT_KEY_FILE = Path(env("EDUPILOT_AUDIT_KEY_FILE", str(DATA_DIR / "audit_key")))
EDUPILOT_AUDIT_CHECKPOINTS = Path(
    env("EDUPILOT_AUDIT_CHECKPOINTS", str(DATA_DIR / "audit_checkpoints.jsonl"))
)

# --- background jobs ----------------------------------------------------------------------
# A running job without a heartbeat for this long is marked failed; results are kept this long.
EDUPILOT_JOB_STALE_SECONDS = int(env("EDUPILOT_JOB_STALE_SECONDS", "60"))
EDUPILOT_JOB_HEARTBEAT_SECONDS = float(env("EDUPILOT_JOB_HEARTBEAT_SECONDS", "15"))
EDUPILOT_JOB_KEEP_DAYS = int(env("EDUPILOT_JOB_KEEP_DAYS", "7"))

# --- programmes ----------------------------------------------------------------------------------
EDUPILOT_PROGRAMMES_DIR = Path(env("EDUPILOT_PROGRAMMES_DIR", str(PROJECT_DIR / "programmes")))

# --- security headers ----------------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
# HSTS once the site runs on HTTPS (secure cookies on): browsers then refuse plain HTTP for a
# year. SecurityMiddleware sends it on requests Django sees as HTTPS (request.is_secure()).
SECURE_HSTS_SECONDS = int(env("EDUPILOT_HSTS_SECONDS", "31536000")) if SESSION_COOKIE_SECURE else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = False
SECURE_HSTS_PRELOAD = False
# Content-Security-Policy (django-csp 4): scripts only from our own static files, never inline
# (tests/security/test_headers.py fails on an inline <script> or on* attribute). Styles allow
# 'unsafe-inline' for now: a few templates still carry style attributes and <style> blocks.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [csp_constants.SELF],
        "script-src": [csp_constants.SELF],
        "style-src": [csp_constants.SELF, csp_constants.UNSAFE_INLINE],
        "img-src": [csp_constants.SELF, "data:"],
        "font-src": [csp_constants.SELF],
        "connect-src": [csp_constants.SELF],
        "object-src": [csp_constants.NONE],
        "base-uri": [csp_constants.SELF],
        "form-action": [csp_constants.SELF],
        "frame-ancestors": [csp_constants.NONE],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("EDUPILOT_LOG_LEVEL", "WARNING")},
}

if env_bool("EDUPILOT_TESTING"):
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]
    DPV_DEFAULT_HISTORY_HASHER = "edupilot.accounts.passwords.FastHistoryHasher"
    HUEY["immediate"] = True
    EMAIL_BACKEND = env("EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")
