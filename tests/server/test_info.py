"""/service-info, /user-info and the OpenAPI document."""

from __future__ import annotations

from batchforge.client import BatchforgeClient
from batchforge.services.context import AppContext
from tests.conftest import make_client


def test_service_info_needs_no_token(app_ctx: AppContext) -> None:
    with make_client(app_ctx, None) as client:
        info = client.service_info()
    assert info.forgePrefix == "TowerForge-"
    assert info.awsMode == "local"
    assert info.awsEndpoint and info.awsEndpoint.startswith("http://127.0.0.1:")


def test_user_info_names_the_admin_and_default_workspace(api: BatchforgeClient) -> None:
    info = api.user_info()
    assert info.user.userName == "admin"
    assert info.defaultWorkspaceId is not None


def test_openapi_lists_the_seqera_paths(api: BatchforgeClient) -> None:
    spec = api.request("GET", "/openapi.json", workspace=False).json()
    for path in (
        "/service-info",
        "/user-info",
        "/credentials",
        "/credentials/{credentialsId}",
        "/credentials/{credentialsId}/validate",
    ):
        assert path in spec["paths"], path


def test_unknown_path_is_json_404(api: BatchforgeClient) -> None:
    response = api._http.get("/no-such-thing")
    assert response.status_code == 404
    assert response.json()["code"] == "not-found"
