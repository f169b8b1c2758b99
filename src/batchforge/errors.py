"""One error hierarchy for the whole project.

Every error a user can see is a :class:`BatchforgeError` with a stable ``code`` (kebab-case,
never renamed once released), an HTTP ``status``, a human ``message`` and an optional ``hint``
saying what to do.  The API serialises them as ``{"message", "code", "hint", "field"}``; the
typed client turns that JSON back into the same class, so the CLI shows the same words.

Invariant: messages never contain secret values (AWS secret keys, pipeline secret values).
Code that builds a message from user input must only use names, never values of secrets.
"""

from __future__ import annotations

from typing import Any, ClassVar


class BatchforgeError(Exception):
    """Base class: an error with a stable code, an HTTP status and an optional hint."""

    code: ClassVar[str] = "error"
    status: ClassVar[int] = 500

    def __init__(self, message: str, *, hint: str | None = None, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.field = field

    def to_dict(self) -> dict[str, Any]:
        """The JSON body the API returns for this error (Seqera's ErrorResponse + extras)."""
        body: dict[str, Any] = {"message": self.message, "code": self.code}
        if self.hint:
            body["hint"] = self.hint
        if self.field:
            body["field"] = self.field
        return body

    def __str__(self) -> str:
        text = self.message
        if self.hint:
            text += f" Hint: {self.hint}"
        return text


class InvalidInput(BatchforgeError):
    """The request is wrong; ``field`` names the offending field where there is one."""

    code = "invalid-input"
    status = 400


class Unsupported(InvalidInput):
    """The request uses a field or value batchforge does not implement (a 400 naming ``field``).

    Raised instead of silently ignoring a Seqera field: the caller learns that the request
    would not do what it says.  The message says "not supported by batchforge".
    """

    code = "unsupported"
    status = 400


class NotFound(BatchforgeError):
    code = "not-found"
    status = 404


class Conflict(BatchforgeError):
    code = "conflict"
    status = 409


class CredentialsInUse(Conflict):
    """Seqera's DeleteCredentialsConflictResponse: which resources still use them."""

    code = "credentials-in-use"

    def __init__(self, message: str, *, credentials_id: str, conflicts: list[dict[str, str]]):
        super().__init__(message, hint="Delete or re-point those compute environments first.")
        self.credentials_id = credentials_id
        self.conflicts = conflicts

    def to_dict(self) -> dict[str, Any]:
        body = super().to_dict()
        body["credentialsId"] = self.credentials_id
        body["conflicts"] = self.conflicts
        return body


class Unauthorized(BatchforgeError):
    code = "unauthorized"
    status = 401


class Forbidden(BatchforgeError):
    code = "forbidden"
    status = 403


class ConfigurationError(BatchforgeError):
    """The server or CLI is misconfigured (settings, data dir, key file)."""

    code = "configuration"
    status = 500


class AwsError(BatchforgeError):
    """An AWS call failed.  Names the call, AWS's error code and message, and what to do.

    ``service``/``operation`` identify the call (``sts``/``AssumeRole``), ``aws_code`` is the
    error code AWS returned (``InvalidClientTokenId``), ``aws_message`` its message.
    ``transient`` is true for network errors, throttling and 5xx answers: the caller may retry
    and must not treat it as an authoritative rejection.
    """

    code = "aws-error"
    status = 400

    def __init__(
        self,
        message: str,
        *,
        service: str,
        operation: str,
        aws_code: str | None = None,
        aws_message: str | None = None,
        transient: bool = False,
        hint: str | None = None,
        field: str | None = None,
    ):
        super().__init__(message, hint=hint, field=field)
        self.service = service
        self.operation = operation
        self.aws_code = aws_code
        self.aws_message = aws_message
        self.transient = transient

    def to_dict(self) -> dict[str, Any]:
        body = super().to_dict()
        body["awsCall"] = f"{self.service}:{self.operation}"
        if self.aws_code:
            body["awsCode"] = self.aws_code
        if self.transient:
            body["transient"] = True
        return body


class AwsAccessDenied(AwsError):
    """AWS answered AccessDenied (or an equivalent) for a call."""

    code = "aws-access-denied"
    status = 403


class CredentialsRejected(AwsError):
    """AWS rejected credentials being saved (bad keys, a role that can't be assumed): 400."""

    code = "credentials-rejected"
    status = 400

    @classmethod
    def from_error(cls, error: AwsError, field: str) -> CredentialsRejected:
        return cls(
            error.message,
            service=error.service,
            operation=error.operation,
            aws_code=error.aws_code,
            aws_message=error.aws_message,
            transient=error.transient,
            hint=error.hint,
            field=field,
        )


ERRORS_BY_CODE: dict[str, type[BatchforgeError]] = {
    cls.code: cls
    for cls in (
        BatchforgeError,
        InvalidInput,
        Unsupported,
        NotFound,
        Conflict,
        Unauthorized,
        Forbidden,
        ConfigurationError,
        AwsError,
        AwsAccessDenied,
        CredentialsRejected,
        CredentialsInUse,
    )
}
