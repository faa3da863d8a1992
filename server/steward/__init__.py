"""Steward: the server side of the Steward moderation console, as a reusable Django app."""
