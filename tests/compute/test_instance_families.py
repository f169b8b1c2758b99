"""The offline rules behind the ARM64/GPU checks and the unsupported-feature filter."""

from __future__ import annotations

import pytest

from batchforge.services.compute_validation import (
    drop_unsupported,
    is_arm64,
    is_nvidia_gpu,
    unsupported_fields,
)


@pytest.mark.parametrize(
    "name", ["m6g", "m6g.large", "c7gn.xlarge", "r8gd", "x2gd", "im4gn", "is4gen", "t4g", "a1"]
)
def test_graviton_families_are_arm64(name: str) -> None:
    """A "g" after the generation digit marks AWS Graviton processors
    (https://docs.aws.amazon.com/ec2/latest/instancetypes/instance-type-names.html)."""
    assert is_arm64(name)


@pytest.mark.parametrize("name", ["optimal", "m5", "c6i.large", "g4dn", "g5.xlarge", "p5", "gr6"])
def test_other_families_are_x86(name: str) -> None:
    assert not is_arm64(name)


@pytest.mark.parametrize("name", ["g4dn", "g5.2xlarge", "g6", "g6e", "p3", "p4d", "p5", "gr6"])
def test_nvidia_gpu_families(name: str) -> None:
    """AWS Batch uses the ECS GPU AMI for p3-p6 and g3-g6 families
    (https://docs.aws.amazon.com/batch/latest/userguide/batch-gpu-ami.html)."""
    assert is_nvidia_gpu(name)


@pytest.mark.parametrize("name", ["m5", "c6i", "g4ad", "g5g", "inf2", "trn1", "optimal"])
def test_not_nvidia_gpu(name: str) -> None:
    """g4ad is AMD, g5g Graviton: the x86_64 NVIDIA AMI serves neither."""
    assert not is_nvidia_gpu(name)


def test_unsupported_fields_and_drop() -> None:
    config = {
        "waveEnabled": True,
        "fusion2Enabled": False,
        "nvnmeStorageEnabled": None,
        "volumes": [],
        "forge": {"fusionEnabled": True, "ebsBlockSize": 50, "maxCpus": 4},
    }
    found = unsupported_fields(config)
    # ebsBlockSize is supported (EBS auto-scaling): kept, as the supported maxCpus.
    assert found == ["waveEnabled", "forge.fusionEnabled"]
    kept, dropped = drop_unsupported(config)
    assert dropped == found
    assert kept == {
        "fusion2Enabled": False,
        "nvnmeStorageEnabled": None,
        "volumes": [],
        "forge": {"ebsBlockSize": 50, "maxCpus": 4},
    }
    assert config["forge"]["fusionEnabled"] is True  # the input is not changed
