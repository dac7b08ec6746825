"""Request limits shared across nodes: counting windows and the chat's per-IP/system-wide limits."""
