"""AWS managed policies in the emulator (batchforge.emulator.iam_policies): loaded once per
process and only in the ``aws`` partition, they must still be there after every reset, with
their documents, and attachable (Forge attaches AmazonEC2ContainerServiceforEC2Role)."""

from __future__ import annotations

import json

from batchforge.local_aws import LocalAws
from tests.emulator.conftest import TRUST_ECS_TASKS

ECS_INSTANCE = "arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role"


def test_managed_policies_survive_resets_and_attach_to_a_fresh_account_each_time(
    aws: LocalAws,
) -> None:
    for _ in range(2):
        iam = aws.boto_client("iam")
        listed = [
            policy["Arn"]
            for page in iam.get_paginator("list_policies").paginate(Scope="AWS")
            for policy in page["Policies"]
        ]
        assert len(listed) > 1000 and ECS_INSTANCE in listed
        policy = iam.get_policy(PolicyArn=ECS_INSTANCE)["Policy"]
        assert policy["AttachmentCount"] == 0  # a fresh account: last round's attachment is gone
        version = iam.get_policy_version(
            PolicyArn=ECS_INSTANCE, VersionId=policy["DefaultVersionId"]
        )["PolicyVersion"]
        assert "ecs:RegisterContainerInstance" in json.dumps(version["Document"])
        iam.create_role(RoleName="probe", AssumeRolePolicyDocument=json.dumps(TRUST_ECS_TASKS))
        iam.attach_role_policy(RoleName="probe", PolicyArn=ECS_INSTANCE)
        assert iam.get_policy(PolicyArn=ECS_INSTANCE)["Policy"]["AttachmentCount"] == 1
        aws.reset()
