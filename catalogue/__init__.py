"""Catalogue: the shared Wagtail catalogue of the three councils (see DESIGN.md)."""
