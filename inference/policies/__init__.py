"""Batching policies: the hook (base.py) and one module per policy, chosen by name."""
