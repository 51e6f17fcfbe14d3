"""Bidragsportalen settings: one module, driven by environment variables.

Defaults are safe for production (DEBUG off, secure cookies, HSTS); `make run` and the
test harness set the variables they need. See README.md for the full list.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", False)
SECRET_KEY = env("DJANGO_SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off.")
    SECRET_KEY = "dev-only-insecure-key-never-use-in-production-0123456789abcdef"

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_tasks_db",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",  # staff's single-use backup codes (konton)
    "axes",
    "django_htmx",
    "viewflow",
    "viewflow.workflow",
    "notifications",
    "arenden",
    "bidrag",
    "workflows",
    "konton",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "config.middleware.LanguageMiddleware",  # Swedish unless English was chosen
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "konton.staff.StaffSecondFactorMiddleware",  # staff: TOTP before any staff page
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_htmx.middleware.HtmxMiddleware",  # request.htmx: the draft steps' autosave
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns a lockout into the lockout page
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
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=int(env("DATABASE_CONN_MAX_AGE", "0")),
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if env_bool("DJANGO_FAST_PASSWORD_HASHER", False):
    # Tests only: the default hasher makes every login cost a noticeable fraction of a second.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "sv"
LANGUAGES = [("sv", _("Svenska")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["config.formats"]  # no US dates in English
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600  # the language choice is remembered
LANGUAGE_COOKIE_SECURE = not DEBUG
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = "Europe/Stockholm"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(env("DJANGO_MEDIA_ROOT", str(BASE_DIR / "media")))

# Object storage: S3 whenever a bucket is configured (tests, production); local files for
# the quick start only. Nothing may keep state on a web host's disk in production.
AWS_STORAGE_BUCKET_NAME = env("AWS_STORAGE_BUCKET_NAME")
# Fail fast when S3 does not answer: an upload is refused (503) after at most
# AWS_S3_MAX_ATTEMPTS x (connect + read timeout) instead of hanging a web worker.
AWS_S3_CONNECT_TIMEOUT = float(env("AWS_S3_CONNECT_TIMEOUT", "3"))
AWS_S3_READ_TIMEOUT = float(env("AWS_S3_READ_TIMEOUT", "10"))
# Attempts in all, the first one included (botocore's total_max_attempts; its
# "max_attempts" would count retries only and make 2 mean three tries).
AWS_S3_MAX_ATTEMPTS = int(env("AWS_S3_MAX_ATTEMPTS", "2"))
# Objects under cases/ that no attachment row refers to are removed by
# `manage.py attachments_cleanup` once they are this old; younger ones may be an
# upload whose row is still being written.
ATTACHMENT_ORPHAN_GRACE_HOURS = float(env("ATTACHMENT_ORPHAN_GRACE_HOURS", "24"))
if AWS_STORAGE_BUCKET_NAME:
    from boto3.s3.transfer import TransferConfig
    from botocore.config import Config as BotoConfig

    _s3_options = {
        "bucket_name": AWS_STORAGE_BUCKET_NAME,
        "endpoint_url": env("AWS_S3_ENDPOINT_URL"),
        "region_name": env("AWS_S3_REGION_NAME", "us-east-1"),
        "access_key": env("AWS_ACCESS_KEY_ID"),
        "secret_key": env("AWS_SECRET_ACCESS_KEY"),
        "default_acl": None,
        "file_overwrite": False,
        "querystring_auth": True,
        "querystring_expire": int(env("AWS_QUERYSTRING_EXPIRE", "60")),
        # With client_config given, django-storages ignores its own signature/addressing
        # options: they must live inside the botocore Config (DESIGN.md §5).
        "client_config": BotoConfig(
            signature_version="s3v4",
            s3={"addressing_style": "path"},
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
            connect_timeout=AWS_S3_CONNECT_TIMEOUT,
            read_timeout=AWS_S3_READ_TIMEOUT,
            retries={"total_max_attempts": AWS_S3_MAX_ATTEMPTS, "mode": "standard"},
        ),
        # One streamed PUT per upload (S3 takes up to 5 GiB so): a multipart upload reads
        # each 8 MiB part into memory, several at a time.
        "transfer_config": TransferConfig(multipart_threshold=5 * 1024**3, use_threads=False),
    }
    STORAGES = {
        "default": {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": _s3_options},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
else:
    STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }

# Uploads
ATTACHMENT_MAX_BYTES = int(env("ATTACHMENT_MAX_BYTES", str(20 * 1024 * 1024)))
# Views decorated with arenden.uploads.streamed_uploads send each file to S3 as it arrives,
# holding one part of this size in memory (S3's smallest part, 5 MiB, is the least).
ATTACHMENT_UPLOAD_PART_BYTES = int(env("ATTACHMENT_UPLOAD_PART_BYTES", str(5 * 1024 * 1024)))
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# E-mail (Django 6.1 mailers)
EMAIL_BACKEND_PATH = env(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend",
)
_mailer_options = {}
if EMAIL_BACKEND_PATH.endswith("smtp.EmailBackend"):
    _mailer_options = {
        "host": env("EMAIL_HOST", "localhost"),
        "port": int(env("EMAIL_PORT", "25")),
        "username": env("EMAIL_HOST_USER", ""),
        "password": env("EMAIL_HOST_PASSWORD", ""),
        "use_tls": env_bool("EMAIL_USE_TLS", False),
        "timeout": int(env("EMAIL_TIMEOUT", "10")),
    }
MAILERS = {"default": {"BACKEND": EMAIL_BACKEND_PATH, "OPTIONS": _mailer_options}}
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "Brå Bidragsportalen <no-reply@bra.se>")

# Background work: Django's task framework on the database backend (DESIGN.md §5), or on
# Redis with RQ when one host is not enough (README, "More than one host: Redis and RQ").
TASKS_BACKEND = env("TASKS_BACKEND", "django_tasks_db.DatabaseBackend")
TASKS = {"default": {"BACKEND": TASKS_BACKEND}}
OUTBOX_MAX_ATTEMPTS = int(env("OUTBOX_MAX_ATTEMPTS", "5"))
OUTBOX_RETRY_SECONDS = float(env("OUTBOX_RETRY_SECONDS", "60"))
# How long a server may take to answer the end of a message (RFC 5321 4.5.3.2.6 allows ten
# minutes): a server that takes the mail and answers late must not be sent it again.
OUTBOX_SMTP_DATA_TIMEOUT = float(env("OUTBOX_SMTP_DATA_TIMEOUT", "300"))
# A claimed message whose worker has not recorded the result by then is taken over by the next
# run; longer than one whole SMTP conversation (six steps of EMAIL_TIMEOUT and the data's wait).
OUTBOX_LEASE_SECONDS = float(
    env("OUTBOX_LEASE_SECONDS", str(OUTBOX_SMTP_DATA_TIMEOUT + 6 * float(env("EMAIL_TIMEOUT", "10")) + 60))
)


def _message_id_domain() -> str:
    """The site's own host name (from DJANGO_ALLOWED_HOSTS), else the sender's domain; never localhost."""
    for host in ALLOWED_HOSTS:
        host = host.lstrip(".")
        if "." in host and "*" not in host and not host.replace(".", "").isdigit() and host != "localhost":
            return host
    return DEFAULT_FROM_EMAIL.rpartition("@")[2].strip(" >") or "bra.se"


# Every message's Message-ID is <uuid@this domain>, the same on every attempt.
OUTBOX_MESSAGE_ID_DOMAIN = env("OUTBOX_MESSAGE_ID_DOMAIN") or _message_id_domain()

# The RQ backend (django-tasks-rq on django-rq): one queue, "default", the one every task uses;
# workers run `manage.py rqworker --with-scheduler default` (the scheduler moves deferred
# tasks, retries and lease watchdogs, to the queue when due). RQ stops a job after
# DEFAULT_TIMEOUT: longer than an outbox lease, so RQ never cuts a send the lease still covers.
REDIS_URL = env("REDIS_URL", "redis://127.0.0.1:6379/0")
RQ_QUEUES = {"default": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": int(OUTBOX_LEASE_SECONDS) + 60}}
RQ = {"JOB_CLASS": "django_tasks_rq.Job"}  # the worker runs Django tasks, not bare functions
if TASKS_BACKEND == "django_tasks_rq.RQBackend":
    INSTALLED_APPS.append("django_rq")  # its rqworker command

# The scheduler (`manage.py scheduler`, workflows/scheduler.py) runs the outbox sweep
# (`deliver_outbox`) this often, in minutes; its other clocks are fixed there.
SCHEDULER_OUTBOX_SWEEP_MINUTES = float(env("SCHEDULER_OUTBOX_SWEEP_MINUTES", "5"))

# Case handling
DIARIENUMMER_FORMAT = env("DIARIENUMMER_FORMAT") or "{year}-{serial:05d}"
# Where people reach this site (no trailing slash): the links in e-mail are absolute, under it.
SITE_URL = env("SITE_URL", "http://localhost:8000").rstrip("/")
# Where applicants turn with questions (shown on every status page beside the diarienummer).
BIDRAG_CONTACT_EMAIL = env("BIDRAG_CONTACT_EMAIL", "bidrag@bra.se")
# An invitation to an organisation can be accepted for this many days.
ORGANISATION_INVITATION_DAYS = int(env("ORGANISATION_INVITATION_DAYS", "7"))
# The final report is due this many months after the project's end date (Brå's standard condition).
BIDRAG_REPORT_DUE_MONTHS = int(env("BIDRAG_REPORT_DUE_MONTHS", "3"))
# Journal checkpoints (`manage.py journal_checkpoint`, checked by `verify_journal`): every
# chain's head, signed with HMAC-SHA256 under this key, written to S3 as a new object never
# overwritten (COMPLIANCE Object Lock for this many days where the bucket has it). Without
# DEBUG the key must be set: the commands refuse to sign or check without it.
JOURNAL_CHECKPOINT_KEY = env("JOURNAL_CHECKPOINT_KEY") or ("dev-only-journal-checkpoint-key" if DEBUG else "")
JOURNAL_CHECKPOINT_BUCKET = env("JOURNAL_CHECKPOINT_BUCKET") or AWS_STORAGE_BUCKET_NAME or ""
JOURNAL_CHECKPOINT_PREFIX = env("JOURNAL_CHECKPOINT_PREFIX", "journal-checkpoints/")
JOURNAL_CHECKPOINT_RETENTION_DAYS = int(env("JOURNAL_CHECKPOINT_RETENTION_DAYS", "3650"))

# Paying grants out (bidrag/payments): the debtor of the pain.001 payment file and the
# accounts of the SIE 4i vouchers. BRA_BANKGIRO is Brå's own bankgiro number (digits, a
# hyphen allowed); without it no payment file is made.
BRA_NAME = env("BRA_NAME") or "Brottsförebyggande rådet"
BRA_ORGNR = env("BRA_ORGNR") or "2021004581"
BRA_BANKGIRO = env("BRA_BANKGIRO") or ""
BRA_BANK_BIC = env("BRA_BANK_BIC") or "DABASESX"  # the framework bank's BIC (Danske Bank Sverige)
# SIE 4i: debit the grant expense, credit the bank; the voucher series the import goes to.
# Defaults after the state's chart of accounts (statens baskontoplan: kontoklass 8,
# lämnade bidrag, and 1930 for the agency's account in Riksgälden); Brå's ekonomi sets its own.
SIE_GRANT_EXPENSE_ACCOUNT = env("SIE_GRANT_EXPENSE_ACCOUNT") or "8410"
SIE_BANK_ACCOUNT = env("SIE_BANK_ACCOUNT") or "1930"
SIE_VOUCHER_SERIES = env("SIE_VOUCHER_SERIES") or "U"

# Where Brå forwards an appeal that came in time (FL 45 §): the administrative court of the
# agency's seat. The registrar can name another on the appeal.
APPEAL_COURT = env("APPEAL_COURT") or "Förvaltningsrätten i Stockholm"
# A repayment claim is due this many days after the decision (moved to a working day).
REPAYMENT_DUE_DAYS = int(env("REPAYMENT_DUE_DAYS", "30"))

# Security: secure by default, relaxed only for the local quick start over plain http.
SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = int(env("DJANGO_HSTS_SECONDS", "0" if DEBUG else "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("DJANGO_BEHIND_PROXY") else None
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

from django.utils.csp import CSP  # noqa: E402

SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "object-src": [CSP.NONE],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("DJANGO_LOG_LEVEL", "WARNING")},
}

# -- Login: e-ID (OpenID Connect), password, throttling, staff second factor ----------
# (konton/; README "Login, e-ID and two-step verification")

# Password login (the form on /logga-in/): staff and the demo. Off in a production with
# e-ID: the page then offers e-ID only and a password POST answers 403. /admin/login/
# stays for administrators (throttled, then TOTP).
PASSWORD_LOGIN_ENABLED = env_bool("PASSWORD_LOGIN_ENABLED", True)
BEHIND_PROXY = env_bool("DJANGO_BEHIND_PROXY")

# Swedish e-ID through an OpenID Connect broker, Swedish OIDC profile: private_key_jwt,
# PKCE, the person from personalIdentityNumber. e-ID login is offered once all three of
# issuer, client id and private key are set.
OIDC_ISSUER = env("OIDC_ISSUER", "")
OIDC_CLIENT_ID = env("OIDC_CLIENT_ID", "")
OIDC_PRIVATE_KEY = env("OIDC_PRIVATE_KEY", "")  # path of a PEM or JWK file, or the PEM/JWK itself
OIDC_REDIRECT_URI = env("OIDC_REDIRECT_URI", "")  # default: https://<host>/logga-in/e-legitimation/retur/
OIDC_SCOPES = env("OIDC_SCOPES", "openid profile https://id.oidc.se/scope/naturalPersonNumber")
OIDC_ACR_VALUES = env_list("OIDC_ACR_VALUES", "http://id.elegnamnden.se/loa/1.0/loa3")
OIDC_ID_TOKEN_MAX_LIFETIME = int(env("OIDC_ID_TOKEN_MAX_LIFETIME", "300"))  # the profile: at most 5 minutes
OIDC_CLOCK_LEEWAY = int(env("OIDC_CLOCK_LEEWAY", "60"))
OIDC_LOGIN_TIMEOUT = int(env("OIDC_LOGIN_TIMEOUT", "900"))  # seconds from start to the broker's answer
OIDC_HTTP_TIMEOUT = float(env("OIDC_HTTP_TIMEOUT", "10"))
OIDC_METADATA_CACHE_SECONDS = int(env("OIDC_METADATA_CACHE_SECONDS", "3600"))

# django-axes: failed password logins (site and admin) counted per username and per
# address, each on its own; at the limit that username or address is locked out for
# the cool-off time. Attempts, failures and lockouts are in the database (admin: Axes).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(env("AXES_FAILURE_LIMIT", "5"))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
from datetime import timedelta  # noqa: E402

AXES_COOLOFF_TIME = timedelta(minutes=int(env("AXES_COOLOFF_MINUTES", "15")))
AXES_RESET_ON_SUCCESS = True
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_HTTP_RESPONSE_CODE = 429
AXES_LOCKOUT_CALLABLE = "konton.throttle.lockout_response"
AXES_CLIENT_IP_CALLABLE = "konton.throttle.client_ip"
AXES_SENSITIVE_PARAMETERS = ["password"]

# django-otp: staff (any staff role, and admin users) give a TOTP code once per session
# before any staff page. The test suite turns it off for tests that are about something
# else (tests/harness/fixtures.py); tests/konton turn it on.
OTP_REQUIRED_FOR_STAFF = env_bool("OTP_REQUIRED_FOR_STAFF", True)
OTP_TOTP_ISSUER = "Brå Bidragsportalen"
