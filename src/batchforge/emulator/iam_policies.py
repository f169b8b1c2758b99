"""AWS managed IAM policies in the emulator, loaded once instead of on every account reset.

moto (with ``MOTO_IAM_LOAD_MANAGED_POLICIES=true``, which the product needs: Forge attaches
AWS managed policies such as ``AmazonEC2ContainerServiceforEC2Role``) parses its 1,600-policy
JSON document and builds every policy object again for each IAM backend it (re)creates: one
per partition (aws, aws-cn, aws-us-gov, the ISO partitions) on every ``/moto-api/reset``,
about 0.2 s each, 1.3-1.8 s a reset.  The test suite resets before most tests.

This process-wide patch (the emulator's own process only, never the product) keeps:

- the parsed document, shared by every backend (it is only read);
- managed policies in the ``aws`` partition only: the emulator serves ``arn:aws`` and every
  region it answers is in it.  An IAM backend of another partition starts with none, as moto
  does without the setting.

Policy objects are still built per backend: attaching one changes its attachment count.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any


@cache
def _parsed_managed_policies() -> dict[str, Any]:
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    return dict(json.loads(aws_managed_policies_data))


def install() -> None:
    """Patch moto's IAM backend in this process (idempotent)."""
    from moto.iam import models
    from moto.settings import load_iam_aws_managed_policies

    if getattr(models.IAMBackend, "_batchforge_fast_policies", False):
        return

    def init_aws_policies(self: Any) -> list[Any]:
        if not load_iam_aws_managed_policies() or self.partition != "aws":
            return []
        return [
            models.AWSManagedPolicy.from_data(name, self.account_id, self.region_name, data)
            for name, data in _parsed_managed_policies().items()
        ]

    models.IAMBackend._init_aws_policies = init_aws_policies  # type: ignore[method-assign]
    models.IAMBackend._batchforge_fast_policies = True  # type: ignore[attr-defined]
