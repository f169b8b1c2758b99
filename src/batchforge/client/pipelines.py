"""Pipeline look-ups and versions for the CLI, as ``tw`` makes them (plain functions over
:class:`BatchforgeClient`; the basic pipeline calls are in :mod:`batchforge.client.runs`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from batchforge.client.api import ApiError

if TYPE_CHECKING:
    from batchforge.client import BatchforgeClient
    from batchforge.schemas.pipelines import PipelineDbDto


def find(client: BatchforgeClient, id_: str | None, name: str | None) -> PipelineDbDto:
    """The pipeline with id ``id_`` or exact name ``name`` in the client's workspace; an
    ApiError (404) naming what was looked for otherwise."""
    if id_ is not None:
        if not id_.isdigit():
            raise ApiError(
                f"Pipeline id '{id_}' is not a number.", code="invalid", status=400, field="id"
            )
        return client.describe_pipeline(int(id_))
    assert name is not None
    for item in client.list_pipelines(search=name):
        if item.name == name:
            return item
    # A server whose search does not match (e.g. quoted names): look through all of them.
    for item in client.list_pipelines():
        if item.name == name:
            return item
    raise ApiError(f"Pipeline '{name}' not found in this workspace.", code="not-found", status=404)


def find_ref(client: BatchforgeClient, ref: str) -> PipelineDbDto:
    """A pipeline by exact name, else by numeric id (batchforge's positional NAME_OR_ID)."""
    try:
        return find(client, None, ref)
    except ApiError as error:
        if error.status != 404 or not ref.isdigit():
            raise
        return find(client, ref, None)


def list_page(
    client: BatchforgeClient,
    search: str | None,
    max_results: int,
    offset: int,
    visibility: str | None = None,
) -> dict[str, Any]:
    """One page of ``GET /pipelines``: ``{"pipelines": [...], "totalSize": n}``;
    ``visibility``: Seqera's private (default), shared or all."""
    params = {
        "search": search,
        "max": max_results,
        "offset": offset,
        "attributes": "labels",
        "visibility": visibility,
    }
    return client.request("GET", "/pipelines", params=params).json()  # type: ignore[no-any-return]


def list_versions(
    client: BatchforgeClient,
    pipeline_id: int,
    search: str | None = None,
    max_results: int | None = None,
    offset: int | None = None,
    published: bool | None = None,
) -> dict[str, Any]:
    """``GET /pipelines/{id}/versions`` (Seqera's ListPipelineVersionsResponse)."""
    params: dict[str, Any] = {"search": search, "max": max_results, "offset": offset}
    if published is not None:
        params["isPublished"] = "true" if published else "false"
    response = client.request("GET", f"/pipelines/{pipeline_id}/versions", params=params)
    return response.json()  # type: ignore[no-any-return]


def find_version(
    client: BatchforgeClient, pipeline_id: int, version_id: str | None, version_name: str | None
) -> dict[str, Any] | None:
    """The version (PipelineVersionFullInfoDto JSON) with id ``version_id`` or name
    ``version_name``, looked up as ``tw`` does (by name: ``search=NAME&isPublished=true``,
    then the exact name); None when not listed."""
    if version_id:
        found = list_versions(client, pipeline_id, max_results=100).get("versions") or []
    else:
        found = (
            list_versions(client, pipeline_id, search=version_name, published=True).get("versions")
            or []
        )
    for item in found:
        version = (item or {}).get("version") or {}
        if (version_id and version.get("id") == version_id) or (
            not version_id and version.get("name") == version_name
        ):
            return version  # type: ignore[no-any-return]
    return None


def version_id(
    client: BatchforgeClient, pipeline_id: int, version_id: str | None, version_name: str | None
) -> str | None:
    """The id of the version named by ``--version-id`` or ``--version-name`` (None: neither);
    an ApiError (404) in ``tw``'s words for a name no version has."""
    if version_id:
        return version_id
    if not version_name:
        return None
    version = find_version(client, pipeline_id, None, version_name)
    if version is None:
        raise ApiError(f"Pipeline version '{version_name}' not found", code="not-found", status=404)
    return str(version.get("id"))


def describe_launch(
    client: BatchforgeClient, pipeline_id: int, version: str | None = None
) -> dict[str, Any]:
    """``GET /pipelines/{id}/launch`` (for ``version``, ``?versionId=``): the launch JSON."""
    response = client.request(
        "GET", f"/pipelines/{pipeline_id}/launch", params={"versionId": version}
    )
    return response.json().get("launch") or {}  # type: ignore[no-any-return]


def primary_compute_env(client: BatchforgeClient) -> dict[str, Any] | None:
    """The workspace's primary compute environment (its list entry), if any."""
    for item in client.request("GET", "/compute-envs").json().get("computeEnvs") or []:
        if item.get("primary"):
            return item  # type: ignore[no-any-return]
    return None


def compute_env_config(client: BatchforgeClient, ref: str) -> tuple[str, dict[str, Any]]:
    """``(id, config)`` of the compute environment named or with id ``ref``."""
    ce_id = client.find_compute_env(ref).id
    described = client.request("GET", f"/compute-envs/{ce_id}").json().get("computeEnv") or {}
    return ce_id, described.get("config") or {}
