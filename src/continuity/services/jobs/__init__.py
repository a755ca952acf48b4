"""The continuity batch jobs: set-based, idempotent, catch-up, safe with several workers."""
