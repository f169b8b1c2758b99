"""The only package that imports boto3.

- :mod:`.session` builds sessions and clients from stored credentials (keys, keys + role,
  or the default chain), with adaptive retries and an optional endpoint (the emulator).
- :mod:`.recorder` sees every AWS call (service, operation, redacted parameters, outcome,
  duration), for tests, benchmarks and ``--trace-aws``.
- :mod:`.errors` turns botocore exceptions into :class:`batchforge.errors.AwsError`.
"""
