"""The HTTP API (FastAPI): thin routers over :mod:`batchforge.services`."""
