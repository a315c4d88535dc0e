"""Run the local fake Stripe server (localstripe) bound to 127.0.0.1 only.

localstripe's own CLI binds every interface; we start its aiohttp app ourselves instead. On start it
registers the portal's webhook endpoint with the signing secret from settings, so payment events reach
`/stripe/webhook/` as they would from Stripe.
"""

import asyncio
import logging
import os
from urllib.parse import urlparse

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.dev")

import django  # noqa: E402

django.setup()

from aiohttp import web  # noqa: E402
from django.conf import settings  # noqa: E402

logger = logging.getLogger("localstripe")


def main() -> None:
    import localstripe.server  # imported late: it sets up its own state on import

    port = urlparse(settings.STRIPE_API_BASE).port or settings.LOCALSTRIPE_PORT
    app = localstripe.server.app

    async def register_webhook(app):
        async def _register():
            import aiohttp

            await asyncio.sleep(0.5)
            url = f"http://127.0.0.1:{port}/_config/webhooks/portal"
            payload = {
                "url": f"{settings.SITE_URL}/stripe/webhook/",
                "secret": settings.STRIPE_WEBHOOK_SECRET,
            }
            async with aiohttp.ClientSession() as session, session.post(url, json=payload) as response:
                logger.info("registered webhook %s -> %s", payload["url"], response.status)

        app["register_webhook"] = asyncio.ensure_future(_register())

    app.on_startup.append(register_webhook)
    print(f"localstripe on http://127.0.0.1:{port}/ (fake Stripe; Stripe.js at {settings.STRIPE_JS_URL})")
    web.run_app(app, host="127.0.0.1", port=port, print=None)


if __name__ == "__main__":
    main()
