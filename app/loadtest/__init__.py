"""Whole-system load harness: a loopback cluster (API, workers, Redis, Postgres) and simulated customers."""
