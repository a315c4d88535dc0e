"""Settings shared by every environment.

Every environment variable the portal reads is read here, through django-environ, so this file is the one
place to look for what can be configured. With nothing set, the portal runs on the embedded defaults:
SQLite, console email, a Celery broker on the filesystem (no server needed) and the local fake Stripe server.
"""

from pathlib import Path

import environ
from kombu import Queue

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="dev-only-insecure-key-never-used-in-production")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

# --- Applications --------------------------------------------------------------------------------------
INSTALLED_APPS = [
    # Ours, lowest layer first (portal <- catalogue <- bookings <- billing).
    "portal",
    "catalogue",
    "bookings",
    "billing",
    # Wagtail
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.contrib.settings",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    # Accounts
    "allauth",
    "allauth.account",
    "axes",
    # Django
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
    # Axes last, as its documentation asks, so it sees the outcome of authentication.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "wagtail.contrib.settings.context_processors.settings",
                "portal.context_processors.site_shell",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------------------------
# DATABASE_URL selects PostgreSQL (or anything django-environ understands); without it, SQLite in var/.
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'portal.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DB_CONN_MAX_AGE", default=0))
# Each developer (or parallel helper) may keep a test database of their own on a shared server. On SQLite
# the test database is a file in var/ rather than memory, so that pytest's --reuse-db keeps it between runs
# (building it means running every migration, Wagtail's included: tens of seconds).
_test_db = env.str("PORTAL_TEST_DB", default="test_portal")
if "sqlite" in DATABASES["default"]["ENGINE"]:
    _test_db = str(VAR_DIR / f"{_test_db}.sqlite3")
    # The demo's web server, Celery worker and beat share one SQLite file. Transactions that begin by taking the
    # write lock (IMMEDIATE) wait for each other up to the timeout instead of failing with "database is locked"
    # when a reader tries to become a writer; WAL lets readers go on while someone writes.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL"}
    )
DATABASES["default"]["TEST"] = {"NAME": _test_db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and Celery ---------------------------------------------------------------------------------
# REDIS_URL makes Redis the Celery broker, result backend and cache. Without it, Celery uses kombu's
# filesystem transport (a worker and beat run with no server) and the cache is per-process memory.
REDIS_URL = env.str("REDIS_URL", default="")
CELERY_QUEUE_SUFFIX = env.str("CELERY_QUEUE_SUFFIX", default="")
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_FILESYSTEM_BROKER_DIR = VAR_DIR / "celery-broker"
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    # kombu's filesystem transport: producers drop message files in a folder that the worker reads.
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_FILESYSTEM_BROKER_DIR / "queue"),
        "data_folder_out": str(CELERY_FILESYSTEM_BROKER_DIR / "queue"),
        "processed_folder": str(CELERY_FILESYSTEM_BROKER_DIR / "processed"),
        "store_processed": False,
        # Exchange tables (the worker's control and broadcast messages); kombu's default is ./control.
        "control_folder": str(CELERY_FILESYSTEM_BROKER_DIR / "control"),
    }
    CELERY_RESULT_BACKEND = f"file://{VAR_DIR / 'celery-results'}"
    for _folder in ("queue", "processed", "control"):
        (CELERY_FILESYSTEM_BROKER_DIR / _folder).mkdir(parents=True, exist_ok=True)
    (VAR_DIR / "celery-results").mkdir(parents=True, exist_ok=True)
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Three queues: mail, money (Stripe, PDFs, ledger) and the rest. Routing is by task name, so a new task
# lands on the right queue without touching settings: billing.* to billing, send_*/email_* to email.
CELERY_TASK_QUEUES = [Queue(f"{name}{CELERY_QUEUE_SUFFIX}") for name in ("default", "email", "billing")]
CELERY_TASK_DEFAULT_QUEUE = f"default{CELERY_QUEUE_SUFFIX}"
CELERY_TASK_ROUTES = {
    "billing.*": {"queue": f"billing{CELERY_QUEUE_SUFFIX}"},
    "*.send_*": {"queue": f"email{CELERY_QUEUE_SUFFIX}"},
    "*.email_*": {"queue": f"email{CELERY_QUEUE_SUFFIX}"},
}
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "Europe/London"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# --- Accounts -----------------------------------------------------------------------------------------
AUTH_USER_MODEL = "portal.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "portal:dashboard"
ACCOUNT_LOGOUT_REDIRECT_URL = "/"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_SESSION_REMEMBER = None
# GOV.UK-styled subclasses of allauth's forms; the login form also hands axes the address it counts by.
ACCOUNT_FORMS = {
    "login": "portal.forms.LoginForm",
    "signup": "portal.forms.SignupForm",
    "reset_password": "portal.forms.ResetPasswordForm",
    "reset_password_from_key": "portal.forms.ResetPasswordKeyForm",
    "change_password": "portal.forms.ChangePasswordForm",
    "set_password": "portal.forms.SetPasswordForm",
    "add_email": "portal.forms.AddEmailForm",
    "reauthenticate": "portal.forms.ReauthenticateForm",
}
ACCOUNT_EMAIL_SUBJECT_PREFIX = "Tri-Council Schools Portal: "
# Both are on. axes locks an address after AXES_FAILURE_LIMIT failures from one IP and shows how long to
# wait; allauth's per-address limit sits above it (were it equal, allauth would refuse the next attempt
# with a form error before axes could show its page) and its per-IP limit slows spraying many addresses.
ACCOUNT_RATE_LIMITS = {"login_failed": "10/m/ip,10/5m/key"}

AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = 0.25  # hours: a locked-out address may try again after 15 minutes
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "login"
AXES_LOCKOUT_TEMPLATE = "portal/locked_out.html"
AXES_RESET_ON_SUCCESS = True

# --- Email --------------------------------------------------------------------------------------------
# EMAIL_URL (smtp://user:pass@host:587, consolemail://, filemail://...) sets EMAIL_BACKEND and friends.
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Tri-Council Schools Portal <no-reply@tricouncil.example>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Stripe -------------------------------------------------------------------------------------------
# Defaults point at the local fake Stripe server (localstripe) that `make run` starts on 127.0.0.1.
LOCALSTRIPE_PORT = env.int("LOCALSTRIPE_PORT", default=8420)
STRIPE_API_BASE = env.str("STRIPE_API_BASE", default=f"http://127.0.0.1:{LOCALSTRIPE_PORT}")
STRIPE_JS_URL = env.str("STRIPE_JS_URL", default=f"http://127.0.0.1:{LOCALSTRIPE_PORT}/js.stripe.com/v3/")
STRIPE_SECRET_KEY = env.str("STRIPE_SECRET_KEY", default="sk_test_localstripe")
STRIPE_PUBLISHABLE_KEY = env.str("STRIPE_PUBLISHABLE_KEY", default="pk_test_localstripe")
STRIPE_WEBHOOK_SECRET = env.str("STRIPE_WEBHOOK_SECRET", default="whsec_localstripe_dev")

# --- Internationalisation -----------------------------------------------------------------------------
LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

# --- Static and media ---------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=str(VAR_DIR / "static"))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(VAR_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# --- Wagtail ------------------------------------------------------------------------------------------
WAGTAIL_SITE_NAME = "Tri-Council Schools Portal"
WAGTAILADMIN_BASE_URL = SITE_URL
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}
WAGTAILDOCS_EXTENSIONS = ["csv", "docx", "key", "odt", "pdf", "pptx", "rtf", "txt", "xlsx", "zip"]

# --- Security headers ---------------------------------------------------------------------------------
# Nothing is loaded from another origin except Stripe.js, whose origin comes from STRIPE_JS_URL.
_stripe_origin = "/".join(STRIPE_JS_URL.split("/")[:3])
CONTENT_SECURITY_POLICY = {
    # Wagtail's admin ships inline scripts and styles of its own; it is staff-only and keeps Django's
    # clickjacking and CSRF protection, so the strict policy applies to the public site.
    "EXCLUDE_URL_PREFIXES": ["/admin/", "/django-admin/"],
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", _stripe_origin],
        "frame-src": ["'self'", _stripe_origin],
        "connect-src": ["'self'", _stripe_origin],
        "img-src": ["'self'", "data:"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "font-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'self'"],
    },
}
# No page of ours is framed; Wagtail sets SAMEORIGIN itself on the admin preview it frames.
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
# Messages ride in the session rather than a cookie of their own, so the public site sets only sessionid and
# csrftoken, as the cookies page (portal/demo_pages.py) says.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "axes": {"level": "WARNING"},
        # Wagtail runs its search-index and reference-index updates as django-tasks, each logged at INFO.
        "django_tasks": {"level": "WARNING"},
    },
}
