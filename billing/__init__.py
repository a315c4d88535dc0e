"""Billing: payments, invoices, credit notes, the income ledger and settlements (see DESIGN.md)."""
