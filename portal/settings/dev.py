"""Local development: `make run`. Debug on; everything else comes from base's embedded defaults."""

from pathlib import Path

from .base import *  # noqa: F403

DEBUG = env.bool("DJANGO_DEBUG", default=True)

# Serve static files straight from the app folders and static/ while developing (no collectstatic).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
Path(STATIC_ROOT).mkdir(parents=True, exist_ok=True)
