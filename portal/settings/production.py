"""Production. Refuses to start without its secrets, and passes `manage.py check --deploy` when they are set."""

import sys

from .base import *  # noqa: F403
from .base import env

REQUIRED = ("SECRET_KEY", "DATABASE_URL", "REDIS_URL", "ALLOWED_HOSTS")
_missing = [name for name in REQUIRED if not env.str(name, default="")]
if _missing:
    # One line, not a traceback: this is what an operator sees when a deployment is misconfigured.
    sys.stderr.write("portal.settings.production refuses to start: set " + ", ".join(_missing) + "\n")
    raise SystemExit(1)

DEBUG = False
if len(SECRET_KEY) < 50 or SECRET_KEY.startswith("django-insecure") or SECRET_KEY.startswith("dev-only"):  # noqa: F405
    sys.stderr.write("portal.settings.production refuses to start: SECRET_KEY must be a long random value.\n")
    raise SystemExit(1)

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)  # noqa: F405
STORAGES["staticfiles"] = {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}  # noqa: F405
