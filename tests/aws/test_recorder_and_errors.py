"""The AWS layer against the emulator: the recorder sees every call, secrets are redacted,
errors name the call and AWS's reason, roles are assumed."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, ParamValidationError

from batchforge.aws.errors import translate
from batchforge.aws.recorder import REDACTED, CallRecorder, redact
from batchforge.aws.session import AwsAuth, AwsEnvironment
from batchforge.errors import AwsAccessDenied, AwsError
from batchforge.local_aws import EMULATOR_KEYS, WORK_BUCKET, LocalAws


@pytest.fixture
def env(local_aws: LocalAws) -> AwsEnvironment:
    return AwsEnvironment(endpoint_url=local_aws.url, recorder=CallRecorder())


def _keys() -> AwsAuth:
    return AwsAuth(mode="keys", access_key="AKIAEXAMPLEEXAMPLE01", secret_key=EMULATOR_KEYS[1])


def test_recorder_sees_calls_with_secrets_redacted(aws: LocalAws, env: AwsEnvironment) -> None:
    sm = env.session(_keys()).client("secretsmanager")
    sm.create_secret(Name="tower-x", SecretString="hunter2-value")
    call = env.recorder.calls[-1]
    assert call.name == "secretsmanager:CreateSecret"
    assert call.ok and call.http_status == 200
    assert call.params["SecretString"] == REDACTED
    assert call.params["Name"] == "tower-x"
    assert "hunter2" not in repr(env.recorder.calls)


def test_failed_call_is_recorded_and_translated(aws: LocalAws, env: AwsEnvironment) -> None:
    s3 = env.session(_keys()).client("s3")
    with pytest.raises(AwsError) as caught:
        s3.get_object(Bucket=WORK_BUCKET, Key="missing.txt")
    # The recorder saw it, whatever the outcome.
    assert env.recorder.calls[-1].name == "s3:GetObject"
    assert env.recorder.calls[-1].outcome == "NoSuchKey"
    assert caught.value.aws_code == "NoSuchKey"
    assert "s3:GetObject" in caught.value.message


def test_paginate_translates_errors(aws: LocalAws, env: AwsEnvironment) -> None:
    s3 = env.session(_keys()).client("s3")
    with pytest.raises(AwsError) as caught:
        list(s3.paginate("list_objects_v2", Bucket="no-such-bucket"))
    assert caught.value.aws_code == "NoSuchBucket"
    assert caught.value.operation == "ListObjectsV2"


def test_role_session_assumes_the_role_once(local_aws: LocalAws, env: AwsEnvironment) -> None:
    auth = AwsAuth(
        mode="role",
        access_key="AKIAEXAMPLEEXAMPLE01",
        secret_key="x" * 40,
        assume_role_arn="arn:aws:iam::123456789012:role/Worker",
        external_id="e-1",
    )
    session = env.session(auth)
    arn = session.client("sts").get_caller_identity()["Arn"]
    session.client("sts").get_caller_identity()
    assert "assumed-role/Worker" in arn
    assert env.recorder.names() == [
        "sts:AssumeRole",
        "sts:GetCallerIdentity",
        "sts:GetCallerIdentity",
    ]


def test_unreachable_endpoint_is_transient() -> None:
    env = AwsEnvironment(endpoint_url="http://127.0.0.1:9", max_attempts=1)
    with pytest.raises(AwsError) as caught:
        env.session(_keys()).client("sts").get_caller_identity()
    assert caught.value.transient
    assert caught.value.aws_code == "EndpointUnreachable"
    assert "sts:GetCallerIdentity" in caught.value.message


def _client_error(code: str, message: str, status: int = 400) -> ClientError:
    return ClientError(
        {
            "Error": {"Code": code, "Message": message},
            "ResponseMetadata": {"HTTPStatusCode": status},
        },
        "SubmitJob",
    )


def test_access_denied_becomes_access_denied_error_with_hint() -> None:
    error = translate(
        _client_error("AccessDeniedException", "not authorized", 403), "batch", "SubmitJob"
    )
    assert isinstance(error, AwsAccessDenied)
    assert error.status == 403
    assert "batch:SubmitJob" in error.message and "AccessDeniedException" in error.message
    assert error.hint and "batch:SubmitJob" in error.hint


def test_throttling_and_5xx_are_transient() -> None:
    assert translate(
        _client_error("TooManyRequestsException", "slow down", 429), "batch", "SubmitJob"
    ).transient
    assert translate(_client_error("InternalError", "oops", 500), "batch", "SubmitJob").transient
    assert not translate(
        _client_error("ClientException", "bad", 400), "batch", "SubmitJob"
    ).transient


def test_xml_error_body_is_reduced_to_code_and_message() -> None:
    body = (
        "<?xml version='1.0'?><ErrorResponse><Errors><Error><Code>AccessDenied</Code>"
        "<Message>User x is not authorized</Message></Error></Errors></ErrorResponse>"
    )
    error = translate(_client_error("403", body, 403), "batch", "DescribeJobQueues")
    assert error.aws_code == "AccessDenied"
    assert error.message.endswith("User x is not authorized")
    assert "<" not in error.message


def test_parameter_errors_never_quote_values() -> None:
    exc = ParamValidationError(
        report="Invalid type for parameter SecretString, value: hunter2, type: <class 'int'>"
    )
    error = translate(exc, "secretsmanager", "CreateSecret")
    assert "hunter2" not in error.message
    assert "SecretString" in error.message


def test_redact_nested() -> None:
    params = {"Name": "n", "Tags": [{"Key": "k"}], "Nested": {"SessionToken": "t", "Password": "p"}}
    assert redact(params) == {
        "Name": "n",
        "Tags": [{"Key": "k"}],
        "Nested": {"SessionToken": REDACTED, "Password": REDACTED},
    }


def test_unreadable_response_is_transient() -> None:
    from botocore.parsers import ResponseParserError

    error = translate(
        ResponseParserError("<html>500</html>"), "iam", "RemoveRoleFromInstanceProfile"
    )
    assert error.transient and error.aws_code == "UnreadableResponse"
    assert "iam:RemoveRoleFromInstanceProfile" in error.message
