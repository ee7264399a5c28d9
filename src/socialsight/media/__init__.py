"""Photos: guarded fetching, content sniffing (and, next, the content-addressed store)."""
