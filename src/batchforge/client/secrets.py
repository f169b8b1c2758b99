"""Client methods for pipeline secrets.  ``user=True`` acts on the caller's own user secrets;
otherwise on the client's workspace (Seqera: no ``workspaceId`` means the user context)."""

from __future__ import annotations

from typing import Any

import httpx

from batchforge.schemas.secrets import (
    CreatePipelineSecretResponse,
    DescribePipelineSecretResponse,
    ListPipelineSecretsResponse,
    PipelineSecret,
)


class SecretsClientMixin:
    """Mixed into :class:`batchforge.client.BatchforgeClient` (uses its ``request``)."""

    workspace_id: int | None

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        raise NotImplementedError

    def _scope(self, user: bool) -> dict[str, Any]:
        """Request options selecting the context: for the workspace, ``workspaceId`` is always
        sent (the client's, else the user's default workspace), since its absence means the
        user context here, unlike elsewhere."""
        if user:
            return {"workspace": False}
        if self.workspace_id is not None:
            return {}
        default = self.request("GET", "/user-info", workspace=False).json()
        return {"params": {"workspaceId": default.get("defaultWorkspaceId")}}

    def list_secrets(self, user: bool = False) -> list[PipelineSecret]:
        response = self.request("GET", "/pipeline-secrets", **self._scope(user))
        return ListPipelineSecretsResponse.model_validate(response.json()).pipelineSecrets

    def create_secret(self, name: str, value: str, user: bool = False) -> int:
        body = {"name": name, "value": value}
        response = self.request("POST", "/pipeline-secrets", json=body, **self._scope(user))
        return CreatePipelineSecretResponse.model_validate(response.json()).secretId

    def describe_secret(self, secret_id: int, user: bool = False) -> PipelineSecret:
        response = self.request("GET", f"/pipeline-secrets/{secret_id}", **self._scope(user))
        return DescribePipelineSecretResponse.model_validate(response.json()).pipelineSecret

    def update_secret(self, secret_id: int, value: str, user: bool = False) -> None:
        self.request(
            "PUT", f"/pipeline-secrets/{secret_id}", json={"value": value}, **self._scope(user)
        )

    def delete_secret(self, secret_id: int, user: bool = False) -> None:
        self.request("DELETE", f"/pipeline-secrets/{secret_id}", **self._scope(user))

    def find_secret(self, target: str, user: bool = False) -> PipelineSecret | None:
        """A secret by name, or by numeric id."""
        for secret in self.list_secrets(user):
            if secret.name == target or str(secret.id) == target:
                return secret
        return None
