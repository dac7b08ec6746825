"""Switchboard web service: chat, staff and operator consoles, APIs, router, storage."""
