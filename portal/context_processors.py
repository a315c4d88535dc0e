"""Values every page of the site shell needs."""

from django.conf import settings


def site_shell(request):
    return {"SITE_NAME": settings.WAGTAIL_SITE_NAME}
