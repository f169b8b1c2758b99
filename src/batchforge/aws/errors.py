"""Translate botocore exceptions into :class:`batchforge.errors.AwsError`.

The message always names the call (``sts:AssumeRole``), AWS's error code and message, and a
hint saying what to do.  Parameter values are never copied into a message: botocore's
parameter-validation report can contain them, so only its structure is kept.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    NoCredentialsError,
    ParamValidationError,
    PartialCredentialsError,
)
from botocore.exceptions import (
    ConnectionError as BotoConnectionError,
)
from botocore.parsers import ResponseParserError

from batchforge.errors import AwsAccessDenied, AwsError

ACCESS_DENIED_CODES = {
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "AuthorizationError",
    "UnauthorizedAccess",
}
BAD_KEY_CODES = {
    "InvalidClientTokenId",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "AuthFailure",
    "UnrecognizedClientException",
    "IncompleteSignature",
}
EXPIRED_CODES = {"ExpiredToken", "ExpiredTokenException", "RequestExpired"}
THROTTLING_CODES = {
    "Throttling",
    "ThrottlingException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "SlowDown",
    "ProvisionedThroughputExceededException",
}

# Optional hook, set by batchforge.iam once it can explain a denied action: given
# (service, operation, aws_message) it returns a hint naming the permission to add.
AccessDeniedExplainer = Callable[[str, str, str], str | None]
_explainer: AccessDeniedExplainer | None = None


def set_access_denied_explainer(explainer: AccessDeniedExplainer | None) -> None:
    global _explainer
    _explainer = explainer


_XML_CODE = re.compile(r"<Code>([^<]+)</Code>")
_XML_MESSAGE = re.compile(r"<Message>([^<]*)</Message>")


def _code_and_message(error: ClientError) -> tuple[str, str]:
    info = error.response.get("Error", {})
    code = str(info.get("Code") or "Unknown")
    message = str(info.get("Message") or "")
    # Some endpoints answer XML where JSON was expected; botocore then keeps the raw body.
    if message.lstrip().startswith("<"):
        found_code = _XML_CODE.search(message)
        found_message = _XML_MESSAGE.search(message)
        code = found_code.group(1) if found_code else code
        message = found_message.group(1) if found_message else ""
    if code.isdigit():
        status = int(code)
        code = {403: "AccessDenied", 404: "NotFound", 429: "TooManyRequestsException"}.get(
            status, code
        )
    return code, message


def _hint_for(code: str, service: str, operation: str, message: str) -> str | None:
    if code in BAD_KEY_CODES:
        return (
            "AWS does not recognise these keys: check the access key id and secret key "
            "(copy them again from the IAM console) and that the key is active."
        )
    if code in EXPIRED_CODES:
        return "The credentials have expired: create a new access key, or assume the role again."
    if code in THROTTLING_CODES:
        return "AWS is throttling requests: retry later; batchforge backs off automatically."
    if code in ACCESS_DENIED_CODES:
        if service == "sts" and operation == "AssumeRole":
            return (
                "Check that the role exists, that its trust policy names this principal "
                "(and the external id, when one is set) with sts:AssumeRole, and that the "
                "principal's own policy allows sts:AssumeRole on the role."
            )
        explained = _explainer(service, operation, message) if _explainer else None
        return explained or f"Grant {service}:{operation} to the credentials' IAM principal."
    return None


def translate(exc: Exception, service: str, operation: str) -> AwsError:
    """The project error for an exception raised by a boto3 call."""
    call = f"{service}:{operation}"
    if isinstance(exc, ClientError):
        code, message = _code_and_message(exc)
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        transient = code in THROTTLING_CODES or status >= 500
        cls = AwsAccessDenied if code in ACCESS_DENIED_CODES else AwsError
        text = f"AWS {call} failed: {code}" + (f": {message}" if message else "")
        return cls(
            text,
            service=service,
            operation=operation,
            aws_code=code,
            aws_message=message,
            transient=transient,
            hint=_hint_for(code, service, operation, message),
        )
    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        return AwsError(
            f"AWS {call} was not attempted: no AWS credentials were found.",
            service=service,
            operation=operation,
            aws_code="NoCredentials",
            hint="Store access keys in the credentials, or configure the server's default "
            "AWS credential chain (environment, profile or instance role).",
        )
    if isinstance(exc, ParamValidationError):
        # The report may quote values: keep only its first words per line.
        lines = [line.split(", value:")[0] for line in str(exc).splitlines()[1:]]
        return AwsError(
            f"AWS {call} was not sent: invalid parameters. " + " ".join(lines).strip(),
            service=service,
            operation=operation,
            aws_code="ParamValidation",
        )
    if isinstance(exc, BotoConnectionError):
        return AwsError(
            f"AWS {call} could not reach the endpoint: {exc}",
            service=service,
            operation=operation,
            aws_code="EndpointUnreachable",
            transient=True,
            hint="Check the network, the region and the endpoint URL; then retry.",
        )
    if isinstance(exc, ResponseParserError):
        # An answer botocore could not read (e.g. an HTML error page from a proxy or the
        # emulator): treat it as a passing server fault.
        return AwsError(
            f"AWS {call} failed: the endpoint answered something that is not an AWS response.",
            service=service,
            operation=operation,
            aws_code="UnreadableResponse",
            transient=True,
            hint="Retry; if it persists, check the endpoint URL.",
        )
    if isinstance(exc, BotoCoreError):
        return AwsError(
            f"AWS {call} failed: {type(exc).__name__}.",
            service=service,
            operation=operation,
            aws_code=type(exc).__name__,
            transient=True,
        )
    raise TypeError(f"not an AWS error: {type(exc).__name__}") from exc
