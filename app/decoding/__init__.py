"""Per-intent decoding: the DecodingPolicy value object (policy.py) and its versioned store (store.py)."""
