"""A typed client over httpx.  Errors come back as :class:`ApiError` with the server's
stable ``code``, ``status``, ``message``, ``hint`` and ``field``."""

from __future__ import annotations

from typing import Any

import httpx

from batchforge.client.compute_envs import ComputeEnvsClientMixin
from batchforge.client.data_links import DataLinksClientMixin
from batchforge.client.policy import PolicyClientMixin
from batchforge.client.runs import RunsClientMixin
from batchforge.client.secrets import SecretsClientMixin
from batchforge.client.tasks import TasksClientMixin
from batchforge.client.tokens import TokensClientMixin
from batchforge.errors import BatchforgeError
from batchforge.schemas.common import DescribeUserResponse, ServiceInfo, ServiceInfoResponse
from batchforge.schemas.credentials import (
    CreateCredentialsResponse,
    CredentialsIn,
    CredentialsOut,
    CredentialsUpdateIn,
    DescribeCredentialsResponse,
    ListCredentialsResponse,
    ValidateCredentialsResponse,
)


class ApiError(BatchforgeError):
    """An error answered by the server (or the failure to reach it)."""

    def __init__(
        self,
        message: str,
        *,
        code: str,
        status: int,
        hint: str | None = None,
        field: str | None = None,
        body: dict[str, Any] | None = None,
    ):
        super().__init__(message, hint=hint, field=field)
        self.code = code  # type: ignore[misc]
        self.status = status  # type: ignore[misc]
        self.body = body or {}


class BatchforgeClient(
    ComputeEnvsClientMixin,
    DataLinksClientMixin,
    PolicyClientMixin,
    RunsClientMixin,
    SecretsClientMixin,
    TasksClientMixin,
    TokensClientMixin,
):
    """Client of one server, as one user, in one workspace (None = the user's default)."""

    def __init__(
        self,
        url: str,
        token: str | None,
        workspace_id: int | None = None,
        *,
        http: httpx.Client | None = None,
        timeout: float = 120.0,
    ):
        self.url = url.rstrip("/")
        self.workspace_id = workspace_id
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = http or httpx.Client(base_url=self.url, timeout=timeout)
        self._http.headers.update(headers)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> BatchforgeClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # --- transport -----------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        workspace: bool = True,
    ) -> httpx.Response:
        query = {k: v for k, v in (params or {}).items() if v is not None}
        if workspace and self.workspace_id is not None:
            query["workspaceId"] = self.workspace_id
        try:
            response = self._http.request(method, path, json=json, params=query)
        except httpx.HTTPError as exc:
            raise ApiError(
                f"Cannot reach batchforge at {self.url}: {type(exc).__name__}.",
                code="unreachable",
                status=0,
                hint="Is the server running (`batchforge server`)? Check --url / BATCHFORGE_URL.",
            ) from None
        if response.status_code >= 400:
            raise _error_from(response)
        return response

    # --- service ------------------------------------------------------------------------

    def service_info(self) -> ServiceInfo:
        response = self.request("GET", "/service-info", workspace=False)
        return ServiceInfoResponse.model_validate(response.json()).serviceInfo

    def user_info(self) -> DescribeUserResponse:
        response = self.request("GET", "/user-info", workspace=False)
        return DescribeUserResponse.model_validate(response.json())

    # --- credentials --------------------------------------------------------------------

    def list_credentials(self) -> list[CredentialsOut]:
        response = self.request("GET", "/credentials")
        return ListCredentialsResponse.model_validate(response.json()).credentials

    def create_credentials(self, credentials: CredentialsIn, use_external_id: bool = False) -> str:
        body = {"credentials": _dump_with_secrets(credentials)}
        response = self.request(
            "POST",
            "/credentials",
            json=body,
            params={"useExternalId": "true" if use_external_id else None},
        )
        return CreateCredentialsResponse.model_validate(response.json()).credentialsId

    def describe_credentials(self, credentials_id: str) -> CredentialsOut:
        response = self.request("GET", f"/credentials/{credentials_id}")
        return DescribeCredentialsResponse.model_validate(response.json()).credentials

    def update_credentials(
        self, credentials_id: str, credentials: CredentialsUpdateIn, use_external_id: bool = False
    ) -> None:
        body = {"credentials": _dump_with_secrets(credentials)}
        params = {"useExternalId": "true" if use_external_id else None}
        self.request("PUT", f"/credentials/{credentials_id}", json=body, params=params)

    def delete_credentials(self, credentials_id: str) -> None:
        self.request("DELETE", f"/credentials/{credentials_id}")

    def validate_credentials(self, credentials_id: str) -> ValidateCredentialsResponse:
        response = self.request("POST", f"/credentials/{credentials_id}/validate")
        return ValidateCredentialsResponse.model_validate(response.json())

    def find_credentials(self, name_or_id: str) -> CredentialsOut:
        """Credentials by id, or else by name, in the client's workspace."""
        for item in self.list_credentials():
            if name_or_id in (item.id, item.name):
                return item
        raise ApiError(
            f"No credentials named or with id '{name_or_id}' in this workspace.",
            code="not-found",
            status=404,
        )


def _dump_with_secrets(model: Any) -> dict[str, Any]:
    """JSON of a request model with SecretStr values revealed (only for the wire)."""
    data = model.model_dump(mode="python", exclude_none=True)

    def reveal(value: Any) -> Any:
        if hasattr(value, "get_secret_value"):
            return value.get_secret_value()
        if isinstance(value, dict):
            return {k: reveal(v) for k, v in value.items()}
        return value

    return reveal(data)  # type: ignore[no-any-return]


def _error_from(response: httpx.Response) -> ApiError:
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    message = str(body.get("message") or f"HTTP {response.status_code}")
    return ApiError(
        message,
        code=str(body.get("code") or f"http-{response.status_code}"),
        status=response.status_code,
        hint=body.get("hint"),
        field=body.get("field"),
        body=body,
    )
