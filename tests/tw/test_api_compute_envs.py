"""tw-shaped requests: ``tw compute-envs`` and ``tw credentials``.

Each case mirrors a request of seqeralabs/tower-cli's tests (named in ``source``)."""

from __future__ import annotations

from typing import Any

import pytest

from batchforge.local_aws import WORK_BUCKET
from tests.tw.conftest import Req, TwWorld, params, replay, unique

CE = "src/test/java/io/seqera/tower/cli/computeenvs/ComputeEnvsCmdTest.java"
FORGE = "src/test/java/io/seqera/tower/cli/computeenvs/platforms/AwsBatchForgePlatformTest.java"
MANUAL = "src/test/java/io/seqera/tower/cli/computeenvs/platforms/AwsBatchManualPlatformTest.java"
CREDS = "src/test/java/io/seqera/tower/cli/credentials/CredentialsCmdTest.java"
AWS = "src/test/java/io/seqera/tower/cli/credentials/providers/AwsProviderTest.java"


def _env(world: TwWorld) -> dict[str, Any]:
    return {"env_id": world.new_compute_env()}


def _creds(world: TwWorld) -> dict[str, Any]:
    body = {
        "credentials": {
            "name": unique("aws"),
            "provider": "aws",
            "keys": {"accessKey": "AKIAEXAMPLEEXAMPLE00", "secretKey": "secret_key"},
        }
    }
    return {"cred_id": world.ok(world.call("POST", "/credentials", body=body))["credentialsId"]}


def _deleted_env(world: TwWorld) -> dict[str, Any]:
    env_id = world.new_compute_env()
    world.ok(world.call("DELETE", f"/compute-envs/{env_id}"), 204)
    return {"env_id": env_id}


def _forge(**forge: Any) -> dict[str, Any]:
    return {
        "computeEnv": {
            "name": "{name}",
            "platform": "aws-batch",
            "credentialsId": "{creds_id}",
            "config": {
                "region": "us-east-1",
                "workDir": f"s3://{WORK_BUCKET}/work",
                "forge": {"type": "SPOT", "minCpus": 0, "maxCpus": 123, "gpuEnabled": False,
                          "disposeOnDeletion": True, **forge},
            },
        },
        "labelIds": [],
    }  # fmt: skip


def _named(world: TwWorld) -> dict[str, Any]:
    return {"name": unique("forge")}


def _mount_defaulted(key: str, path: Any) -> Any:
    def check(world: TwWorld, answer: Any, values: dict[str, Any]) -> None:
        env = world.ok(world.call("GET", f"/compute-envs/{answer['computeEnvId']}"))
        assert env["computeEnv"]["config"]["forge"][key] == path

    return check


def _listed_without(world: TwWorld, answer: Any, values: dict[str, Any]) -> None:
    assert values["env_id"] not in [e["id"] for e in answer["computeEnvs"]]


def _validated(world: TwWorld, answer: Any, values: dict[str, Any]) -> None:
    assert answer["status"] == "AVAILABLE" and answer["transientError"] is False


CASES = [
    Req("ce-list", CE, "GET", "/compute-envs",
        reads={"computeEnvs[0].id": str, "computeEnvs[0].name": str,
               "computeEnvs[0].platform": str, "computeEnvs[0].status": str,
               "computeEnvs[0].primary": bool}),
    Req("ce-list-available", CE, "GET", "/compute-envs", query={"status": "AVAILABLE"},
        reads={"computeEnvs[0].id": str}),
    Req("ce-view", CE, "GET", "/compute-envs/{ce_id}",
        reads={"computeEnv.id": str, "computeEnv.config.workDir": str,
               "computeEnv.config.region": str, "computeEnv.status": str,
               "computeEnv.dateCreated": str, "computeEnv.lastUpdated": str}),
    Req("ce-view-attributes", CE, "GET", "/compute-envs/{ce_id}",
        query={"attributes": "labels"}, reads={"computeEnv.labels": list}),
    Req("ce-view-missing", CE, "GET", "/compute-envs/isnEDBLvHDAIteOEF44om", status=404),
    Req("ce-validate-name", CE, "GET", "/compute-envs/validate", query={"name": "testCE"},
        status=204),
    Req("ce-validate-name-taken", CE, "GET", "/compute-envs/validate", query={"name": "demo"},
        status=409),
    Req("ce-add-manual", MANUAL, "POST", "/compute-envs", setup=_named,
        body={"computeEnv": {"name": "{name}", "platform": "aws-batch",
                             "credentialsId": "{creds_id}",
                             "config": {"region": "us-east-1",
                                        "workDir": f"s3://{WORK_BUCKET}/work",
                                        "headQueue": "{head}", "computeQueue": "{work}"}},
              "labelIds": []},
        reads={"computeEnvId": str}),
    Req("ce-add-forge", FORGE, "POST", "/compute-envs", setup=_named, body=_forge(),
        reads={"computeEnvId": str}),
    Req("ce-add-forge-efs-no-mount", FORGE, "POST", "/compute-envs", setup=_named,
        body=_forge(efsCreate=True), reads={"computeEnvId": str},
        check=_mount_defaulted("efsMount", "/mnt/efs")),
    Req("ce-add-forge-fsx-no-mount", FORGE, "POST", "/compute-envs", setup=_named,
        body=_forge(fsxSize=1200), reads={"computeEnvId": str},
        check=_mount_defaulted("fsxMount", "/mnt/fsx")),
    # tw sends ebsAutoScale=true unless --no-ebs-auto-scale (AwsBatchForgePlatform):
    # Docker's storage auto-scales (tests/compute/test_ebs_autoscale.py).
    Req("ce-add-forge-tw-defaults", FORGE, "POST", "/compute-envs", setup=_named,
        body=_forge(ebsAutoScale=True, fusionEnabled=False), reads={"computeEnvId": str},
        check=_mount_defaulted("ebsAutoScale", True)),  # the stored value, as for mounts
    Req("ce-update", CE, "PUT", "/compute-envs/{env_id}", setup=_env,
        body={"name": "{env_id}x", "description": "new description"}, status=204),
    Req("ce-delete", CE, "DELETE", "/compute-envs/{env_id}", setup=_env, status=204),
    Req("ce-delete-wait-deleted", CE, "GET", "/compute-envs/{env_id}", setup=_deleted_env,
        reads={"computeEnv.status": str, "computeEnv.deleted": bool},
        check=lambda w, a, v: a["computeEnv"]["status"] == "DELETED" or pytest.fail(a)),
    Req("ce-list-after-delete", CE, "GET", "/compute-envs", setup=_deleted_env,
        check=_listed_without),
    Req("ce-delete-missing", CE, "DELETE", "/compute-envs/vYOK4vn7spw7bHHWBDXZ8", status=404),
    Req("ce-primary-set", CE, "POST", "/compute-envs/{ce_id}/primary", status=204),
    Req("ce-validate", CE, "POST", "/compute-envs/{ce_id}/validate", body={},
        reads={"status": str, "transientError": bool}, check=_validated),
    Req("ce-validate-force-not-invalid", CE, "POST", "/compute-envs/{ce_id}/validate",
        query={"force": "true"}, body={}, status=409),
    Req("ce-credentials-for-platform", FORGE, "GET", "/credentials",
        query={"platformId": "aws-batch"},
        reads={"credentials[0].id": str, "credentials[0].provider": str}),
    Req("creds-list", CREDS, "GET", "/credentials",
        reads={"credentials[0].id": str, "credentials[0].name": str,
               "credentials[0].provider": str, "credentials[0].lastUsed": (str, type(None))}),
    Req("creds-add", CREDS, "POST", "/credentials",
        setup=lambda w: {"name": unique("aws")},
        body={"credentials": {"keys": {"accessKey": "AKIAEXAMPLEEXAMPLE02",
                                       "secretKey": "secret_key"},
                              "name": "{name}", "provider": "aws"}},
        reads={"credentialsId": str}),
    Req("creds-add-external-id", AWS, "POST", "/credentials", query={"useExternalId": "true"},
        setup=lambda w: {"name": unique("aws")},
        body={"credentials": {"keys": {"assumeRoleArn": "arn:aws:iam::123456789012:role/x"},
                              "name": "{name}", "provider": "aws"}},
        reads={"credentialsId": str}),
    Req("creds-view", AWS, "GET", "/credentials/{creds_id}",
        reads={"credentials.id": str, "credentials.keys": dict}),
    Req("creds-update", AWS, "PUT", "/credentials/{cred_id}", setup=_creds,
        body={"credentials": {"keys": {"accessKey": "AKIAEXAMPLEEXAMPLE01",
                                       "secretKey": "other"},
                              "name": "renamed-{cred_id}", "provider": "aws"}},
        status=204),
    Req("creds-validate", CREDS, "POST", "/credentials/{creds_id}/validate", body={},
        reads={"status": str}),
    Req("creds-delete", CREDS, "DELETE", "/credentials/{cred_id}", setup=_creds, status=204),
    Req("creds-delete-missing", CREDS, "DELETE", "/credentials/1cz5A8cuBkB5iJliCwJCFT",
        status=404),
]  # fmt: skip


@pytest.mark.tw_request
@pytest.mark.parametrize("case", params(CASES))
def test_tw_request(tw_world: TwWorld, case: Req) -> None:
    from tests.runs.conftest import HEAD_QUEUE, WORK_QUEUE

    if case.id == "ce-add-manual":
        case = Req(**{**case.__dict__, "setup": lambda w: {
            "name": unique("manual"), "head": HEAD_QUEUE, "work": WORK_QUEUE}})  # fmt: skip
    replay(tw_world, case)
