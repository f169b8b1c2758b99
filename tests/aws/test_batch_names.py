"""AWS Batch's name rules, enforced by the test layer (tests/awsrules.py ``BatchNameRules``).

AWS Batch API reference: SubmitJob ``jobName``, RegisterJobDefinition ``jobDefinitionName``,
CreateComputeEnvironment ``computeEnvironmentName``, CreateJobQueue ``jobQueueName``
(https://docs.aws.amazon.com/batch/latest/APIReference/API_SubmitJob.html and siblings): up to
128 letters, numbers, hyphens and underscores, the first alphanumeric; AWS answers a
ClientException (HTTP 400).  The emulator accepts any job definition or job name.
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from batchforge.local_aws import LocalAws
from tests.awsrules import BatchNameRules, batch_name_error


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("a", True),
        ("nf-run_1", True),
        ("A" * 128, True),
        ("A" * 129, False),
        ("-starts-with-hyphen", False),
        ("_starts-with-underscore", False),
        ("has space", False),
        ("has.dot", False),
        ("", False),
    ],
)
@pytest.mark.parametrize(
    ("operation", "field"),
    [
        ("SubmitJob", "jobName"),
        ("RegisterJobDefinition", "jobDefinitionName"),
        ("CreateComputeEnvironment", "computeEnvironmentName"),
        ("CreateJobQueue", "jobQueueName"),
    ],
)
def test_batch_names(operation: str, field: str, name: str, ok: bool) -> None:
    assert (batch_name_error(operation, {field: name}) is None) is ok


def _client(local_aws: LocalAws, rules: BatchNameRules) -> Any:
    batch = local_aws.boto_client("batch")
    for event, handler in rules.hooks():
        batch.meta.events.register(event, handler)
    return batch


def test_a_bad_name_gets_awss_client_exception_before_the_emulator(local_aws: LocalAws) -> None:
    rules = BatchNameRules()
    batch = _client(local_aws, rules)
    properties = {"image": "ubuntu", "vcpus": 1, "memory": 128}
    with pytest.raises(ClientError) as caught:
        batch.register_job_definition(
            jobDefinitionName="bad name", type="container", containerProperties=properties
        )
    error = caught.value.response["Error"]
    assert error["Code"] == "ClientException"
    assert error["Message"] == "Provided name bad name is not supported pattern[a-zA-Z_0-9-]{1,128}"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    with pytest.raises(ClientError) as caught:
        batch.submit_job(jobName="-x", jobQueue="q", jobDefinition="d")
    assert "Job name should match valid pattern" in str(caught.value)
    assert [op for op, _ in rules.refused] == ["RegisterJobDefinition", "SubmitJob"]
    name = "batchforge-name-rules-ok"
    batch.register_job_definition(
        jobDefinitionName=name, type="container", containerProperties=properties
    )  # a good name reaches the emulator
    assert batch.describe_job_definitions(jobDefinitionName=name)["jobDefinitions"]
