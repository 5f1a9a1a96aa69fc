"""Settings, read from the environment only (django-environ).

Two profiles: the default development profile, which runs on a bare machine (SQLite files,
tasks in-process), and ``DJANGO_ENV=production``, which refuses to start without a secret
key, allowed hosts and encryption keys and turns on every transport-security setting, so
that ``manage.py check --deploy`` is clean. Every variable is listed in ``.env.example``.
"""

import os
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A local .env (written by `make run` with freshly generated keys) is read when present;
# real environment variables win over it. CRM_ENV_FILE names another file; empty: none.
_ENV_FILE = os.environ.get("CRM_ENV_FILE", str(BASE_DIR / ".env"))
if _ENV_FILE and Path(_ENV_FILE).is_file():
    env.read_env(_ENV_FILE, overwrite=False)

DJANGO_ENV = env.str("DJANGO_ENV", default="development")
PRODUCTION = DJANGO_ENV == "production"
if DJANGO_ENV not in ("development", "production"):
    raise ImproperlyConfigured("DJANGO_ENV must be 'development' or 'production'.")


def _required_in_production(name, dev_default):
    value = env.str(name, default="")
    if value:
        return value
    if PRODUCTION:
        raise ImproperlyConfigured(f"{name} must be set when DJANGO_ENV=production.")
    return dev_default


DEBUG = env.bool("DJANGO_DEBUG", default=not PRODUCTION)
# With DEBUG on, Django's technical 404 page instead of the project's (crm/error_pages.py).
DEBUG_TECHNICAL_404 = env.bool("DJANGO_DEBUG_TECHNICAL_404", default=False)
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("DJANGO_DEBUG must be off when DJANGO_ENV=production.")

SECRET_KEY = _required_in_production(
    "DJANGO_SECRET_KEY", "development-only-secret-key-never-use-in-production-0123456789"
)
_hosts = env.list("DJANGO_ALLOWED_HOSTS", default=[])
if PRODUCTION and not _hosts:
    raise ImproperlyConfigured("DJANGO_ALLOWED_HOSTS must be set when DJANGO_ENV=production.")
ALLOWED_HOSTS = _hosts or ["127.0.0.1", "localhost", "testserver"]
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
TRUST_X_FORWARDED_FOR = env.bool("TRUST_X_FORWARDED_FOR", default=False)
# How many proxies of ours append to X-Forwarded-For (read only with TRUST_X_FORWARDED_FOR):
# the client is that many entries from the right; whatever stands further left is ignored.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=1)

# --- Personal-data keys (DESIGN §3) -------------------------------------------------------
# FIELD_ENCRYPTION_KEYS: comma-separated urlsafe-base64 32-byte keys; the first encrypts
# (wraps data keys), all decrypt. BLIND_INDEX_KEY: a separate key for the keyed HMACs used
# for exact look-up and name search. In development both are derived from the secret key
# when unset, so a bare `make run` works; production refuses to start without them.
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[])
BLIND_INDEX_KEY = env.str("BLIND_INDEX_KEY", default="")
# Blind-index keys carry a version ("v2:<key>"; a bare key is v1). To rotate, list the new
# key first and the old one after it in BLIND_INDEX_KEYS (it then wins over BLIND_INDEX_KEY),
# run `manage.py reindex`, then drop the old key. Search looks under every listed key.
BLIND_INDEX_KEYS = env.list("BLIND_INDEX_KEYS", default=[])
# How long backups of the keys database (data keys, search digests) are kept. A purge is
# complete once this many days have passed: no backup then holds the destroyed key or the
# subject's search digests. Set it to what the backup job really keeps.
KEYS_BACKUP_RETENTION_DAYS = env.int("KEYS_BACKUP_RETENTION_DAYS", default=7)
# Values written before ciphertexts were bound to their place (format enc1) are still read
# until `manage.py reencrypt` has rewritten them; then turn this off, so that an old value
# copied in from a backup is refused as well.
FIELD_ENCRYPTION_LEGACY_READS = env.bool("FIELD_ENCRYPTION_LEGACY_READS", default=True)
# Data keys created for rows that were never committed are swept after this many hours.
DATA_KEY_ORPHAN_HOURS = env.int("DATA_KEY_ORPHAN_HOURS", default=24)
if PRODUCTION and not FIELD_ENCRYPTION_KEYS:
    raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS must be set when DJANGO_ENV=production.")
if PRODUCTION and not (BLIND_INDEX_KEY or BLIND_INDEX_KEYS):
    raise ImproperlyConfigured("BLIND_INDEX_KEY must be set when DJANGO_ENV=production.")
# AUDIT_CHAIN_KEY: urlsafe-base64 32-byte key of the audit chain's HMACs and checkpoints
# (audit.keys). Kept out of both databases: whoever can write them must not be able to
# re-hash the chain. Derived from the secret key in development, required in production.
AUDIT_CHAIN_KEY = env.str("AUDIT_CHAIN_KEY", default="")
if PRODUCTION and not AUDIT_CHAIN_KEY:
    raise ImproperlyConfigured("AUDIT_CHAIN_KEY must be set when DJANGO_ENV=production.")

INSTALLED_APPS = [
    "crm.admin_apps.CrmAdminConfig",  # django.contrib.admin, ASCII ids in its URLs
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "guardian",
    "simple_history",
    "django_celery_beat",
    "django_htmx",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "csp",
    "crm",
    "audit",
    "customers",
    "credit",
    "complaints",
    "analytics",
    "crm.security",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "crm.security.middleware.SecurityMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "crm.middleware.RequestContextMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "axes.middleware.AxesMiddleware",
    # The project's own 404 page also with DEBUG on (crm/error_pages.py).
    "crm.error_pages.OwnErrorPagesMiddleware",
]

ROOT_URLCONF = "crm.urls"
WSGI_APPLICATION = "crm.wsgi.application"

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
                "crm.context_processors.navigation",
            ],
        },
    },
]

# --- Databases ----------------------------------------------------------------------------
# `default` holds the business data; `keys` holds only the per-customer data keys, apart
# from the data they protect (no history, not in the main backup, not rolled back by a
# restore). Without DATABASE_URL both are SQLite files beside manage.py.
if env.str("DATABASE_URL", default=""):
    DATABASES = {"default": env.db("DATABASE_URL")}
else:
    DATABASES = {
        "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / "db.sqlite3"}
    }
if env.str("KEYS_DATABASE_URL", default=""):
    DATABASES["keys"] = env.db("KEYS_DATABASE_URL")
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["keys"] = {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": BASE_DIR / "db-keys.sqlite3",
    }
else:
    # Same server, its own database: `<name>_keys`.
    DATABASES["keys"] = {**DATABASES["default"], "NAME": f"{DATABASES['default']['NAME']}_keys"}
for _alias in DATABASES.values():
    _alias.setdefault("ATOMIC_REQUESTS", False)
    if _alias["ENGINE"] == "django.db.backends.sqlite3":
        # Concurrent writers wait for each other (busy timeout) and take the write lock
        # when their transaction begins, so a second PATCH waits and then sees the new
        # version (409) instead of failing with "database is locked".
        _alias.setdefault("OPTIONS", {})
        _alias["OPTIONS"].setdefault("timeout", env.int("SQLITE_BUSY_TIMEOUT", default=20))
        _alias["OPTIONS"].setdefault("transaction_mode", "IMMEDIATE")
    if _alias["ENGINE"].endswith("postgresql"):
        _alias.setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=60))
        _alias.setdefault("CONN_HEALTH_CHECKS", True)
DATABASE_ROUTERS = ["crm.db_routers.KeysRouter"]
# Covering indexes (``include=``) serve PostgreSQL; SQLite (development) builds them as
# plain indexes, which is all it needs, so its warning about it is noise there.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Users --------------------------------------------------------------------------------
AUTH_USER_MODEL = "crm.User"
AUTHENTICATION_BACKENDS = [
    "crm.security.backends.LoginProtectionBackend",  # django-axes lockout, on every sign-in path
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": env.int("PASSWORD_MIN_LENGTH", default=12)},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    # Not a rule: its hook audits every password change and revokes the user's tokens.
    {"NAME": "crm.security.validators.PasswordChangeAudit"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
ANONYMOUS_USER_NAME = None  # guardian: no anonymous user row
GUARDIAN_RAISE_403 = False
DEMO_PASSWORD = env.str("DEMO_PASSWORD", default="demo-Passw0rd!")

# --- Internationalisation -----------------------------------------------------------------
LANGUAGE_CODE = env.str("LANGUAGE_CODE", default="en")
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="Asia/Shanghai")
USE_I18N = True
USE_TZ = True

# --- Static files -------------------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# --- Tasks --------------------------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=CELERY_BROKER_URL or None)
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not CELERY_BROKER_URL)
CELERY_TASK_EAGER_PROPAGATES = True
if not CELERY_BROKER_URL:
    CELERY_BROKER_URL = "memory://"
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_SERIALIZER = "json"
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# --- E-mail -------------------------------------------------------------------------------
EMAIL_BACKEND = env.str(
    "EMAIL_BACKEND",
    default=(
        "django.core.mail.backends.smtp.EmailBackend"
        if PRODUCTION
        else "django.core.mail.backends.console.EmailBackend"
    ),
)
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="crm@localhost")

# --- REST API -----------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "crm.security.authentication.ExpiringTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "crm.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "crm.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "crm.api.exceptions.exception_handler",
    "DEFAULT_METADATA_CLASS": "crm.api.metadata.InputSerializerMetadata",
    "DEFAULT_THROTTLE_RATES": {"token": "20/min"},
    # DRF throttles take the client from X-Forwarded-For only behind our own proxies.
    "NUM_PROXIES": TRUSTED_PROXY_COUNT if TRUST_X_FORWARDED_FOR else 0,
    "DEFAULT_PARSER_CLASSES": [
        "crm.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Customer information management API",
    "DESCRIPTION": "Customer records, credit control, complaints and sales analysis.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "UserRoleEnum": "crm.roles.ROLES",
        "CustomerKindEnum": "customers.models.Customer.Kind",
        "CustomerStatusEnum": "customers.models.Customer.Status",
        "InteractionKindEnum": "customers.models.Interaction.Kind",
        "CampaignKindEnum": "customers.models.Campaign.Kind",
        "CampaignStatusEnum": "customers.models.Campaign.Status",
        "ImportJobStatusEnum": "customers.models.ImportJob.Status",
        "VisitPlanStatusEnum": "customers.models.VisitPlanEntry.Status",
        "ConsentPurposeEnum": "customers.models.Consent.Purpose",
        "ExportPurposeEnum": "customers.services.exports.PURPOSES",
        "InteractionOutcomeEnum": "customers.models.Interaction.Outcome",
        "ComplaintChannelEnum": "complaints.models.Channel",
        "ConsentChannelEnum": "customers.models.Consent.Channel",
        "ComplaintSeverityEnum": "complaints.models.Severity",
        "CreditAccountStatusEnum": "credit.models.CreditAccount.Status",
        "AccountConditionKindEnum": "credit.models.AccountCondition.Kind",
        "CreditLimitStatusEnum": "credit.models.CreditLimit.Status",
        "InvestigationSourceEnum": "credit.models.Investigation.Source",
        "InvestigationKindEnum": "credit.models.Investigation.Kind",
        "OrderStatusEnum": "credit.models.Order.Status",
        "OrderReasonEnum": "credit.models.Order.Reason",
        "NoteKindEnum": "credit.models.Note.Kind",
        "NoteStatusEnum": "credit.models.Note.Status",
        "HoldStatusEnum": "credit.models.Hold.Status",
        "DeteriorationResponseKindEnum": "credit.models.DeteriorationResponse.Kind",
        "DeteriorationResponseStatusEnum": "credit.models.DeteriorationResponse.Status",
        "RiskReportTriggerEnum": "credit.models.RiskReport.Trigger",
        "RiskReportStatusEnum": "credit.models.RiskReport.Status",
        "CalendarDayKindEnum": "complaints.models.CalendarDay.Kind",
        "ComplaintKindEnum": "complaints.models.Complaint.Kind",
        "ComplaintStatusEnum": "complaints.models.Complaint.Status",
        "ComplaintEventKindEnum": "complaints.models.ComplaintEvent.Kind",
        "ReturnVisitOutcomeEnum": "complaints.models.ReturnVisit.Outcome",
        "PurchaseEstimateSourceEnum": "analytics.models.PurchaseEstimate.Source",
        "ReportRunStatusEnum": "analytics.models.ReportRun.Status",
        "AuditEventHashSchemeEnum": "audit.models.AuditEvent.HashScheme",
        "RetentionPolicyCategoryEnum": "audit.models.RetentionPolicy.Category",
        "DestructionRecordTriggerEnum": "audit.models.DestructionRecord.Trigger",
        "DestructionRecordStatusEnum": "audit.models.DestructionRecord.Status",
        "PurgedSubjectStateEnum": "audit.models.PurgedSubject.State",
        "SubjectRequestKindEnum": "audit.models.SubjectRequest.Kind",
        "SubjectRequestStatusEnum": "audit.models.SubjectRequest.Status",
        "AlertThresholdKindEnum": "audit.models.AlertThreshold.Kind",
        "AlertThresholdWindowEnum": "audit.models.AlertThreshold.Window",
        "RoleChangeStatusEnum": "crm.security.models.RoleChange.Status",
        "IncidentStatusEnum": "audit.models.Incident.Status",
    },
}
IDEMPOTENCY_KEY_TTL_HOURS = env.int("IDEMPOTENCY_KEY_TTL_HOURS", default=24)

# --- History ------------------------------------------------------------------------------
SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True

# --- Security -----------------------------------------------------------------------------
# See docs/security.md. Sign-in lockout (django-axes): after AXES_FAILURE_LIMIT failures
# for one username or from one client address, sign-in is refused for the cool-off time
# on the sign-in page, the admin and the token endpoint; an admin can lift it sooner.
AXES_FAILURE_LIMIT = env.int("CRM_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("CRM_LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username"], ["ip_address"]]
AXES_CLIENT_IP_CALLABLE = "crm.request_context.client_ip"
AXES_LOCKOUT_CALLABLE = "crm.security.lockout.lockout_response"
AXES_HTTP_RESPONSE_CODE = 429
AXES_RESET_ON_SUCCESS = True
AXES_DISABLE_ACCESS_LOG = True  # sign-ins are in the audit trail
AXES_ENABLE_ADMIN = False  # crm.security.admin registers the unlock page
AXES_SENSITIVE_PARAMETERS = ["password", "otp"]
AXES_VERBOSE = False  # no "AXES: BEGIN" banner on every manage.py command
# API tokens: stored hashed, valid this many hours after issue.
CRM_TOKEN_TTL_HOURS = env.int("CRM_TOKEN_TTL_HOURS", default=8)
# Sessions end after this much inactivity, and in any case this long after sign-in.
CRM_SESSION_IDLE_SECONDS = env.int("CRM_SESSION_IDLE_MINUTES", default=30) * 60
CRM_SESSION_MAX_AGE_SECONDS = env.int("SESSION_COOKIE_AGE", default=8 * 3600)
# Two-factor sign-in (TOTP) for sales managers, general managers, DPOs, auditors and
# admins: always under the production profile, in development only when asked for.
CRM_REQUIRE_2FA = env.bool("CRM_REQUIRE_2FA", default=PRODUCTION)
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="CRM")
# Rate limits, "<count>/<seconds>" ("off" to disable): sign-in and token per client
# address, reveal, export and import per user. Refusals answer 429 with Retry-After.
CRM_RATE_LIMITS = {
    "login": env.str("CRM_RATE_LIMIT_LOGIN", default="20/60"),
    "token": env.str("CRM_RATE_LIMIT_TOKEN", default="20/60"),
    "reveal": env.str("CRM_RATE_LIMIT_REVEAL", default="60/60"),
    "export": env.str("CRM_RATE_LIMIT_EXPORT", default="30/3600"),
    "import": env.str("CRM_RATE_LIMIT_IMPORT", default="30/3600"),
}
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}
# The API refuses JSON nested deeper than this (400), and bodies over the upload limit.
CRM_JSON_MAX_DEPTH = env.int("CRM_JSON_MAX_DEPTH", default=32)
# Content-Security-Policy (django-csp): scripts and styles from our own origin only, no
# inline script, no event-handler attributes; htmx is configured not to inject styles.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        # style="" attributes only (a progress bar's width); never a <style> element.
        "style-src-attr": ["'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = CRM_SESSION_MAX_AGE_SECONDS
SESSION_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)

# --- Logging ------------------------------------------------------------------------------
# Personal values never reach a log line: services log ids, never field values.
# Query strings never reach a log (a search term may be a phone or ID number): the filter
# sits on the loggers that write request lines and paths and on the console handler.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "strip_query_strings": {"()": "crm.log_filters.StripQueryStrings"},
        "quiet_client_errors": {"()": "crm.error_pages.QuietClientErrors"},
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["strip_query_strings"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # The reloader's "Watching for file changes" lines are noise at `make run`'s start.
        "django.utils.autoreload": {"level": "WARNING"},
        "django.request": {"filters": ["strip_query_strings", "quiet_client_errors"]},
        "django.security.csrf": {"filters": ["strip_query_strings"]},
        "django.server": {
            "handlers": ["console"],
            "level": "INFO",
            "propagate": False,
            "filters": ["strip_query_strings"],
        },
    },
}

# --- Product settings ---------------------------------------------------------------------
CRM = {
    "COMPANY_NAME": env.str("CRM_COMPANY_NAME", default="Demo Trading Co."),
}
# Absolute base of links in e-mails (the unsubscribe link), e.g. https://crm.example.com
CRM_BASE_URL = env.str("CRM_BASE_URL", default="http://127.0.0.1:8000")
PRIVACY = {
    # Days to answer a subject request (PIPL arts. 44-47) from the day it was received.
    "REQUEST_DUE_DAYS": env.int("PRIVACY_REQUEST_DUE_DAYS", default=15),
    # Working hours (local time, 24h clock): accesses outside them are flagged.
    "WORK_HOURS_START": env.int("PRIVACY_WORK_HOURS_START", default=8),
    "WORK_HOURS_END": env.int("PRIVACY_WORK_HOURS_END", default=20),
    # Encrypted backups (manage.py backup): where they go and how many are kept.
    "BACKUP_DIR": env.str("PRIVACY_BACKUP_DIR", default=str(BASE_DIR / "backups")),
    "BACKUP_KEEP": env.int("PRIVACY_BACKUP_KEEP", default=7),
    # Key of the backup files (urlsafe-base64, 32 bytes); never a field master key.
    "BACKUP_KEY": env.str("PRIVACY_BACKUP_KEY", default=""),
}
CUSTOMERS = {
    # A prospect leaves the visit plan after this many visits without result (DESIGN §6.3).
    "VISIT_PLAN_MAX_FRUITLESS": env.int("CUSTOMERS_VISIT_PLAN_MAX_FRUITLESS", default=5),
    # Version of the privacy policy new consents are recorded against.
    "POLICY_VERSION": env.str("CUSTOMERS_POLICY_VERSION", default="2026-01"),
}
COMPLAINTS = {
    # A complaint of a customer with another in the same category this many days before
    # is a repeat complaint (DESIGN §6.4).
    "REPEAT_DAYS": env.int("COMPLAINTS_REPEAT_DAYS", default=90),
    # The return visit (回访) is scheduled this many days after the resolution.
    "RETURN_VISIT_DAYS": env.int("COMPLAINTS_RETURN_VISIT_DAYS", default=3),
    # A customer looked up by exact phone/ID/code may have a complaint logged for him by the
    # same user for this many minutes.
    "LOOKUP_VALID_MINUTES": env.int("COMPLAINTS_LOOKUP_VALID_MINUTES", default=60),
}
CRM_UPLOAD_DIR = Path(env.str("CRM_UPLOAD_DIR", default=str(BASE_DIR / "var" / "uploads")))
# The process's own temporary files (openpyxl writes each XLSX sheet to one while building
# an export) go here when set: point it at a RAM-backed or encrypted volume (e.g. /dev/shm).
CRM_TEMP_DIR = env.str("CRM_TEMP_DIR", default="")
if CRM_TEMP_DIR:
    import tempfile

    tempfile.tempdir = CRM_TEMP_DIR
# Import and export bounds (crm.imports, crm.exports). An upload above CRM_UPLOAD_MAX_BYTES
# is refused (and never spooled past it); a workbook may unpack to at most
# CRM_IMPORT_MAX_UNCOMPRESSED_BYTES; a file may hold at most CRM_IMPORT_MAX_ROWS data rows;
# a job keeps its first CRM_IMPORT_MAX_ERRORS errors (and counts all of them per column).
CRM_UPLOAD_MAX_BYTES = env.int("CRM_UPLOAD_MAX_BYTES", default=50 * 1024 * 1024)
CRM_IMPORT_MAX_UNCOMPRESSED_BYTES = env.int(
    "CRM_IMPORT_MAX_UNCOMPRESSED_BYTES", default=200 * 1024 * 1024
)
CRM_IMPORT_MAX_ROWS = env.int("CRM_IMPORT_MAX_ROWS", default=100_000)
CRM_IMPORT_MAX_ERRORS = env.int("CRM_IMPORT_MAX_ERRORS", default=1000)
# Exports above this many rows are written in the background to an encrypted file its
# owner downloads within CRM_EXPORT_TTL_HOURS; kept under CRM_EXPORT_DIR.
CRM_EXPORT_SYNC_MAX_ROWS = env.int("CRM_EXPORT_SYNC_MAX_ROWS", default=5000)
CRM_EXPORT_TTL_HOURS = env.int("CRM_EXPORT_TTL_HOURS", default=24)
CRM_EXPORT_DIR = env.str("CRM_EXPORT_DIR", default="") or None
# Uploads above FILE_UPLOAD_MAX_MEMORY_SIZE are written encrypted, never in clear.
FILE_UPLOAD_HANDLERS = [
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "crm.uploads.EncryptingUploadHandler",
]
# Where they are spooled: by default CRM_UPLOAD_DIR/incoming, created on first use.
FILE_UPLOAD_TEMP_DIR = env.str("FILE_UPLOAD_TEMP_DIR", default="") or None

# --- Periodic jobs (django-celery-beat loads these into its table; admins can edit them) ---
CELERY_BEAT_SCHEDULE = {
    # Chains any event left unchained (a crash between commit and chaining) and anchors
    # the head in the keys database.
    "audit-chain-checkpoint": {
        "task": "audit.chain_checkpoint",
        "schedule": 3600,
    },
    "data-keys-sweep": {
        "task": "crm.data_keys_sweep",
        "schedule": 24 * 3600,
    },
    "idempotency-records-purge": {
        "task": "crm.idempotency_records_purge",
        "schedule": 24 * 3600,
    },
    "customers-import-jobs-clean-up": {
        "task": "customers.import_jobs_clean_up",
        "schedule": 24 * 3600,
    },
    # Privacy operations (audit/): retention purge, overdue requests, backups.
    "audit-purge-expired": {
        "task": "audit.purge_expired",
        "schedule": 24 * 3600,
    },
    "audit-backup": {  # both databases, verified; keeps the last PRIVACY_BACKUP_KEEP
        "task": "audit.backup",
        "schedule": 24 * 3600,
    },
    "audit-subject-requests-overdue": {
        "task": "audit.subject_requests_overdue",
        "schedule": 24 * 3600,
    },
    "credit-attachment-orphans-sweep": {  # files of uploads whose transaction rolled back
        "task": "credit.attachment_orphans_sweep",
        "schedule": 24 * 3600,
    },
    "export-jobs-clean-up": {
        "task": "crm.export_jobs_clean_up",
        "schedule": 24 * 3600,
    },
    "customers-reverification-overdue": {
        "task": "customers.reverification_notify_overdue",
        "schedule": 24 * 3600,
    },
    "complaints-escalate-overdue": {
        "task": "complaints.escalate_overdue",
        "schedule": 600,
    },
    "complaints-surveys-send-due": {  # each survey's round, once a customer a round
        "task": "complaints.surveys_send_due",
        "schedule": 24 * 3600,
    },
    "credit-notes-overdue-check": {  # dishonoured or overdue notes raise a risk report
        "task": "credit.notes_overdue_check",
        "schedule": 24 * 3600,
    },
}

# Sales analytics: the stored monthly report run of the previous month, on the 1st at 02:00.
from celery.schedules import crontab  # noqa: E402

CELERY_BEAT_SCHEDULE["analytics-monthly-report-run"] = {
    "task": "analytics.monthly_report_run",
    "schedule": crontab(minute=0, hour=2, day_of_month=1),
}

# --- Sales analytics (docs/analytics.md) --------------------------------------------------
# ABC classes: A while the cumulative share before a customer is below ANALYTICS_ABC_A %,
# B below ANALYTICS_ABC_B %, else C. ANALYTICS_TARGET_SHARE: the share of wallet (%) aimed at.
ANALYTICS_ABC_A = env.str("ANALYTICS_ABC_A", default="75")
ANALYTICS_ABC_B = env.str("ANALYTICS_ABC_B", default="95")
ANALYTICS_TARGET_SHARE = env.str("ANALYTICS_TARGET_SHARE", default="30")
