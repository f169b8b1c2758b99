"""Client methods for compute environments and labels."""

from __future__ import annotations

from typing import Any

import httpx

from batchforge.schemas.compute_envs import (
    ComputeEnvOut,
    DescribeComputeEnvResponse,
    LabelDbDto,
    ListComputeEnvsEntry,
    ListComputeEnvsResponse,
)


class ComputeEnvsClientMixin:
    """Mixed into :class:`batchforge.client.BatchforgeClient` (uses its ``request``)."""

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        raise NotImplementedError

    def create_compute_env(
        self, compute_env: dict[str, Any], label_ids: list[int] | None = None
    ) -> str:
        body = {"computeEnv": compute_env, "labelIds": label_ids or []}
        return str(self.request("POST", "/compute-envs", json=body).json()["computeEnvId"])

    def list_compute_envs(self, status: str | None = None) -> list[ListComputeEnvsEntry]:
        response = self.request("GET", "/compute-envs", params={"status": status})
        return ListComputeEnvsResponse.model_validate(response.json()).computeEnvs

    def describe_compute_env(self, ce_id: str) -> ComputeEnvOut:
        response = self.request("GET", f"/compute-envs/{ce_id}")
        return DescribeComputeEnvResponse.model_validate(response.json()).computeEnv

    def delete_compute_env(
        self, ce_id: str, force: bool = False, preserve_resources: bool | None = None
    ) -> None:
        params: dict[str, Any] = {"force": "true" if force else None}
        if preserve_resources is not None:
            params["preserveResources"] = "true" if preserve_resources else "false"
        self.request("DELETE", f"/compute-envs/{ce_id}", params=params)

    def retry_compute_env(self, ce_id: str) -> None:
        """Try the environment's failed Forge work again (POST .../retry)."""
        self.request("POST", f"/compute-envs/{ce_id}/retry", json={})

    def update_compute_env(self, ce_id: str, **fields: Any) -> None:
        self.request("PUT", f"/compute-envs/{ce_id}", json=fields)

    def set_primary_compute_env(self, ce_id: str) -> None:
        self.request("POST", f"/compute-envs/{ce_id}/primary", json={})

    def validate_compute_env(self, ce_id: str) -> ComputeEnvOut:
        response = self.request("POST", f"/compute-envs/{ce_id}/validate", json={})
        return DescribeComputeEnvResponse.model_validate(response.json()).computeEnv

    def find_compute_env(self, name_or_id: str) -> ListComputeEnvsEntry:
        for item in self.list_compute_envs():
            if name_or_id in (item.id, item.name):
                return item
        from batchforge.client.api import ApiError

        raise ApiError(
            f"No compute environment named or with id '{name_or_id}'.", code="not-found", status=404
        )

    def list_labels(self) -> list[LabelDbDto]:
        response = self.request("GET", "/labels")
        return [LabelDbDto.model_validate(item) for item in response.json()["labels"]]

    def ensure_resource_label(self, name: str, value: str) -> int:
        """The id of resource label ``name=value``, created when missing."""
        for label in self.list_labels():
            if label.resource and label.name == name and label.value == value:
                return label.id
        body = {"name": name, "value": value, "resource": True}
        return int(self.request("POST", "/labels", json=body).json()["id"])
