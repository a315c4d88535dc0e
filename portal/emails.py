"""Sending an email once: the service every email task calls (see ``portal.models.emails.SentEmail``)."""

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string

from portal.models import SentEmail


def render_email(*, template: str, context: dict) -> tuple[str, str]:
    """Subject and plain-text body from ``<template>_subject.txt`` and ``<template>_body.txt``."""
    context = {"SITE_NAME": settings.WAGTAIL_SITE_NAME, "SITE_URL": settings.SITE_URL.rstrip("/"), **context}
    subject = " ".join(render_to_string(f"{template}_subject.txt", context).split())
    body = render_to_string(f"{template}_body.txt", context).strip() + "\n"
    return subject, body


def send_email_once(*, key: str, to: str, subject: str, body: str) -> bool:
    """Send ``body`` to ``to`` unless an email with ``key`` went before; True when this call sent it.

    Not a read-then-write: the key is inserted first, and the unique index makes a concurrent duplicate
    wait for this transaction and then find the row. The SMTP call sits inside the transaction on
    purpose: if it raises, the row rolls back and the task's retry sends again. The one gap left is a
    crash after the server accepted the message and before the commit, which can repeat one email; that
    is the price of not losing any.
    """
    with transaction.atomic():
        _, created = SentEmail.objects.get_or_create(key=key, defaults={"recipient": to, "subject": subject[:255]})
        if not created:
            return False
        EmailMessage(subject=subject, body=body, to=[to]).send()
    return True
