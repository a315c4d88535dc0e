"""Reads of the billing app: who sees which documents, ledgers and settlements, and what they add up to."""
