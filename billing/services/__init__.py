"""Billing services: every write to billing data goes through one of these modules."""
