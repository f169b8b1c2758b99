"""Server test fixtures: the run fixtures (a manual compute environment on emulator queues,
the Batch job layer, ``launch``) shared with tests/runs."""

from tests.runs.conftest import env_id, jobs, launch  # noqa: F401 - fixtures
