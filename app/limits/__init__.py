"""Limits: counting windows shared across nodes, the chat's budgets, and login throttling."""
