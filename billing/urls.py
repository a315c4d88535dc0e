"""Billing's URLs, included at the site root by portal/urls.py."""

from django.urls import path

from billing.webhooks import stripe_webhook

app_name = "billing"

urlpatterns = [
    path("stripe/webhook/", stripe_webhook, name="stripe-webhook"),
]
