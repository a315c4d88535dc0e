"""The settings package: embedded defaults, environment switches, and the production guard.

Each test loads settings in a fresh interpreter with a controlled environment, because settings are read
once per process and the test process itself runs on ``portal.settings.test``.
"""

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "SECRET_KEY": "x",  # replaced per test by a long random value
    "DATABASE_URL": "postgres://portal:secret@db.internal:5432/portal",
    "REDIS_URL": "redis://redis.internal:6379/0",
    "ALLOWED_HOSTS": "schools-portal.example",
}


def _run(args: list[str], *, settings: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run ``python <args>`` from the project root with only the given variables (plus PATH/HOME) set."""
    clean = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"), "DJANGO_SETTINGS_MODULE": settings}
    clean.update(env or {})
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120, check=False
    )


def _settings(names: list[str], *, settings: str, env: dict[str, str] | None = None) -> dict:
    """The named settings as loaded in a fresh process."""
    script = (
        "import json, django; from django.conf import settings as s; django.setup(); "
        f"print(json.dumps({{n: getattr(s, n) for n in {names!r}}}, default=str))"
    )
    result = _run(["-c", script], settings=settings, env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def _production_env(**overrides: str) -> dict[str, str]:
    return {**PRODUCTION_ENV, "SECRET_KEY": secrets.token_urlsafe(64), **overrides}


def test_no_environment_gives_embedded_defaults():
    """With no variables set: SQLite, console email, filesystem Celery broker, local cache and local fake Stripe."""
    values = _settings(
        [
            "DATABASES",
            "EMAIL_BACKEND",
            "CELERY_BROKER_URL",
            "CELERY_RESULT_BACKEND",
            "CELERY_BROKER_TRANSPORT_OPTIONS",
            "CACHES",
            "STRIPE_API_BASE",
            "DEBUG",
        ],
        settings="portal.settings.dev",
    )
    # Every folder of the filesystem broker lives in var/ (kombu would put its exchange tables in ./control).
    assert all(
        "/var/celery-broker/" in str(path)
        for path in values["CELERY_BROKER_TRANSPORT_OPTIONS"].values()
        if isinstance(path, str)
    )
    assert values["CELERY_BROKER_TRANSPORT_OPTIONS"]["control_folder"].endswith("var/celery-broker/control")
    # One SQLite file shared by the web server, worker and beat: writers queue instead of failing "locked".
    assert values["DATABASES"]["default"]["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert values["DATABASES"]["default"]["ENGINE"] == "django.db.backends.sqlite3"
    assert values["DATABASES"]["default"]["NAME"].endswith("var/portal.sqlite3")
    assert values["EMAIL_BACKEND"] == "django.core.mail.backends.console.EmailBackend"
    assert values["CELERY_BROKER_URL"] == "filesystem://"
    assert values["CELERY_RESULT_BACKEND"].startswith("file://")
    assert values["CACHES"]["default"]["BACKEND"].endswith("LocMemCache")
    assert values["STRIPE_API_BASE"] == "http://127.0.0.1:8420"
    assert values["DEBUG"] is True


def test_database_and_redis_urls_switch_to_postgres_and_redis():
    """DATABASE_URL selects PostgreSQL; REDIS_URL becomes the Celery broker, result backend and cache."""
    env = {"DATABASE_URL": "postgres://u:p@db.example:5432/portal", "REDIS_URL": "redis://cache.example:6379/2"}
    values = _settings(
        ["DATABASES", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "CACHES"], settings="portal.settings.dev", env=env
    )
    database = values["DATABASES"]["default"]
    assert (database["ENGINE"], database["HOST"], database["NAME"]) == (
        "django.db.backends.postgresql",
        "db.example",
        "portal",
    )
    assert values["CELERY_BROKER_URL"] == env["REDIS_URL"]
    assert values["CELERY_RESULT_BACKEND"] == env["REDIS_URL"]
    assert values["CACHES"]["default"] == {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": env["REDIS_URL"],
    }


def test_stripe_settings_come_from_the_environment():
    """Stripe keys, API base, Stripe.js URL and webhook secret are read from the environment."""
    env = {
        "STRIPE_SECRET_KEY": "sk_test_abc",
        "STRIPE_PUBLISHABLE_KEY": "pk_test_abc",
        "STRIPE_API_BASE": "https://api.stripe.com",
        "STRIPE_JS_URL": "https://js.stripe.com/v3/",
        "STRIPE_WEBHOOK_SECRET": "whsec_abc",
    }
    values = _settings(list(env), settings="portal.settings.dev", env=env)
    assert values == env


def test_queue_suffix_renames_every_queue():
    """CELERY_QUEUE_SUFFIX is appended to the three queues and the routes, so parallel runs never share a queue."""
    values = _settings(
        ["CELERY_TASK_QUEUES", "CELERY_TASK_DEFAULT_QUEUE", "CELERY_TASK_ROUTES"],
        settings="portal.settings.dev",
        env={"CELERY_QUEUE_SUFFIX": "_ci42"},
    )
    queue_names = sorted(re.findall(r"<unbound Queue (\w+) ", " ".join(values["CELERY_TASK_QUEUES"])))
    assert queue_names == ["billing_ci42", "default_ci42", "email_ci42"]
    assert values["CELERY_TASK_DEFAULT_QUEUE"] == "default_ci42"
    assert {route["queue"] for route in values["CELERY_TASK_ROUTES"].values()} == {"billing_ci42", "email_ci42"}


def test_test_settings_run_tasks_eagerly_and_keep_email_in_memory():
    """The test settings run Celery tasks eagerly and send email to Django's in-memory outbox."""
    values = _settings(["CELERY_TASK_ALWAYS_EAGER", "EMAIL_BACKEND", "DEBUG"], settings="portal.settings.test")
    assert values == {
        "CELERY_TASK_ALWAYS_EAGER": True,
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "DEBUG": False,
    }


@pytest.mark.parametrize("missing", sorted(PRODUCTION_ENV))
def test_production_refuses_to_start_without_a_required_variable(missing):
    """Production settings exit with status 1 and a one-line message naming the missing variable."""
    env = _production_env()
    del env[missing]
    result = _run(["manage.py", "check"], settings="portal.settings.production", env=env)
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert missing in lines[0]
    assert "Traceback" not in result.stderr


def test_production_refuses_a_short_secret_key():
    """A guessable SECRET_KEY is refused in production with a one-line message."""
    result = _run(
        ["manage.py", "check"], settings="portal.settings.production", env=_production_env(SECRET_KEY="too-short")
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "portal.settings.production refuses to start: SECRET_KEY must be a long random value."
    ]


def test_production_passes_the_deployment_checklist():
    """With its variables set, `manage.py check --deploy` reports no warnings at all in production."""
    result = _run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        settings="portal.settings.production",
        env=_production_env(),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_production_is_hardened():
    """Production turns debug off, forces HTTPS with HSTS and secure cookies, and hashes static file names."""
    values = _settings(
        [
            "DEBUG",
            "SECURE_SSL_REDIRECT",
            "SECURE_HSTS_SECONDS",
            "SESSION_COOKIE_SECURE",
            "CSRF_COOKIE_SECURE",
            "ALLOWED_HOSTS",
            "STORAGES",
        ],
        settings="portal.settings.production",
        env=_production_env(),
    )
    assert values["DEBUG"] is False
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SECURE_HSTS_SECONDS"] >= 31536000
    assert values["SESSION_COOKIE_SECURE"] and values["CSRF_COOKIE_SECURE"]
    assert values["ALLOWED_HOSTS"] == ["schools-portal.example"]
    assert values["STORAGES"]["staticfiles"]["BACKEND"] == "whitenoise.storage.CompressedManifestStaticFilesStorage"


def test_every_environment_variable_is_documented_in_the_readme():
    """Each variable the settings package reads appears in the README's table of environment variables."""
    source = "\n".join(path.read_text() for path in (ROOT / "portal" / "settings").glob("*.py"))
    names = set(re.findall(r"env(?:\.\w+)?\(\s*\"([A-Z0-9_]+)\"", source))
    names |= set(re.findall(r"REQUIRED = \(([^)]*)\)", source)[0].replace('"', "").replace(",", " ").split())
    readme = (ROOT / "README.md").read_text()
    undocumented = sorted(name for name in names if f"`{name}`" not in readme)
    assert names, "no environment variables found: the pattern above is out of date"
    assert undocumented == []
