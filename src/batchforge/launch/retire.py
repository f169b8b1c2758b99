"""Retiring head job definitions: ``DeregisterJobDefinition``, one call per definition revision
(AWS has no batch form of it), and no other call -- no describe first.

Deregistering is housekeeping: ``batch:DeregisterJobDefinition`` is an extra beyond the seed's
policy, so it never fails its caller.  The first AccessDenied stops it (the credentials would be
refused every other call too) and becomes a note; a definition already gone counts as retired;
any other refusal keeps that definition, with a note.  Every retired ARN is dropped from the
process's definition cache (:func:`batchforge.launch.jobdefs.forget_arn`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from batchforge.aws.session import AwsSession
from batchforge.errors import AwsAccessDenied, AwsError
from batchforge.launch import jobdefs

log = logging.getLogger("batchforge.launch")

PERMISSION = "batch:DeregisterJobDefinition"
SECTION = "OptionalExtraBatchHousekeeping"
"""The permission catalog's section granting it (:mod:`batchforge.iam.extras`)."""
_GONE = ("does not exist", "not found", "inactive")


@dataclass
class Retired:
    """What became of the definitions: deregistered (or already gone), or kept."""

    deregistered: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def note(self) -> str | None:
        """One line for the user (None when every definition was retired)."""
        return " ".join(self.notes) or None


def short_name(arn: str) -> str:
    """``arn:…:job-definition/NAME:REV`` -> ``NAME:REV``."""
    return arn.rsplit("/", 1)[-1]


def deregister(aws: AwsSession, arns: Iterable[str]) -> Retired:
    """Deregister each definition; never raises an AWS error (see the module docstring)."""
    pending = list(dict.fromkeys(arns))
    retired = Retired()
    batch = aws.client("batch")
    for index, arn in enumerate(pending):
        try:
            batch.deregister_job_definition(jobDefinition=arn)
        except AwsAccessDenied:
            retired.kept += pending[index:]
            retired.notes.append(_denied_note(pending[index:]))
            break
        except AwsError as error:
            if not any(word in str(error.aws_message or error).lower() for word in _GONE):
                retired.kept.append(arn)
                retired.notes.append(f"{short_name(arn)} kept: {error.message}")
                continue
        retired.deregistered.append(arn)
        jobdefs.forget_arn(arn)
    return retired


def _denied_note(kept: list[str]) -> str:
    names = ", ".join(short_name(arn) for arn in kept)
    return (
        f"Head job definition(s) kept ({names}): {PERMISSION} was denied. It is optional, "
        f"beyond the seed's policy (section {SECTION}); grant it to have head job definitions "
        "deregistered when their compute environment is disposed."
    )
