"""Batch Forge: create the AWS Batch infrastructure of a compute environment, and dispose of it.

- :mod:`.spec` — what to build (:class:`ForgeSpec`), validated, and the deterministic names.
- :mod:`.plan` — the ordered resources (waves) a spec needs.
- :mod:`.resources` — one handler per AWS resource kind: create (idempotent), delete
  (tolerates "already gone"), waits.
- :mod:`.engine` — applies a plan with a write-ahead journal, rolls back on failure, disposes.
- :mod:`.userdata` — the launch template's MIME multipart user data.
"""
