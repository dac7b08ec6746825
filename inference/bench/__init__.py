"""Benchmarks that compare each technique against its obvious alternative in the same run."""
