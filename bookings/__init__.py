"""Bookings: baskets, bookings, places, waiting lists and subscriptions (see DESIGN.md)."""
