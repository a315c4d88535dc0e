"""Billing's pages. Thin: each checks who is asking (``billing.selectors.documents``, ``portal.access``), then calls
selectors and services. Refusals from services come back as ``ValidationError`` and are shown as messages."""
