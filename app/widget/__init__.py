"""The embeddable chat widget: per-site look and allowed origins, and the origin checks that use them."""
