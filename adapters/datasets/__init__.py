"""Builders of chat examples: one module per source (public data sets, project templates)."""
