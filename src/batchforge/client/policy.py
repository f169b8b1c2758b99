"""The ``/policy`` part of the typed client (mixed into :class:`BatchforgeClient`).

Each method takes the request's fields as keyword arguments (the JSON names:
``workDir``, ``dataBuckets``, ``tags``...) and returns the server's report as a dict.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx


def _body(**fields: Any) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v is not None}


class PolicyClientMixin:
    """Policy methods; needs ``request`` of the client."""

    if TYPE_CHECKING:

        def request(
            self,
            method: str,
            path: str,
            *,
            json: Any = None,
            params: dict[str, Any] | None = None,
            workspace: bool = True,
        ) -> httpx.Response: ...

    def generate_policy(
        self,
        features: list[str] | None = None,
        mode: str | None = None,
        **scope: Any,
    ) -> dict[str, Any]:
        """``{policies, notes, sizes, layout, features, split}``."""
        body = _body(features=features, mode=mode, **scope)
        return self.request("POST", "/policy/generate", json=body, workspace=False).json()  # type: ignore[no-any-return]

    def check_policy(
        self,
        policy: str,
        features: list[str] | None = None,
        mode: str | None = None,
        **scope: Any,
    ) -> dict[str, Any]:
        """The checker's report (``ok``, ``findings`` with ``line``/``column``...)."""
        body = _body(policy=policy, features=features, mode=mode, **scope)
        return self.request("POST", "/policy/check", json=body, workspace=False).json()  # type: ignore[no-any-return]

    def preflight(
        self,
        credentials_id: str,
        region: str | None = None,
        features: list[str] | None = None,
        mode: str | None = None,
        **scope: Any,
    ) -> dict[str, Any]:
        """Live check of stored credentials: ``ok``, ``blocking``, ``warnings``, ``notes``,
        ``permissions``..."""
        body = _body(
            credentialsId=credentials_id, region=region, features=features, mode=mode, **scope
        )
        return self.request("POST", "/policy/preflight", json=body).json()  # type: ignore[no-any-return]
