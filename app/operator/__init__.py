"""Operator console services: live per-intent figures and the "try it" generation."""
