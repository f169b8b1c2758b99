"""Typed HTTP client of the batchforge API (used by the CLI and the tests)."""

from batchforge.client.api import ApiError, BatchforgeClient

__all__ = ["ApiError", "BatchforgeClient"]
