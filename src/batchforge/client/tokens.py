"""Client methods for the caller's personal API tokens (``/tokens``)."""

from __future__ import annotations

from typing import Any

import httpx

from batchforge.schemas.tokens import (
    AccessToken,
    CreateAccessTokenResponse,
    ListAccessTokensResponse,
)


class TokensClientMixin:
    """Mixed into :class:`batchforge.client.BatchforgeClient` (uses its ``request``)."""

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        raise NotImplementedError

    def list_tokens(self) -> list[AccessToken]:
        response = self.request("GET", "/tokens", workspace=False)
        return ListAccessTokensResponse.model_validate(response.json()).tokens

    def create_token(self, name: str) -> CreateAccessTokenResponse:
        """A new token: ``accessKey`` is its value, returned this once only."""
        response = self.request("POST", "/tokens", json={"name": name}, workspace=False)
        return CreateAccessTokenResponse.model_validate(response.json())

    def delete_token(self, token_id: int) -> None:
        self.request("DELETE", f"/tokens/{token_id}", workspace=False)

    def delete_all_tokens(self) -> None:
        self.request("DELETE", "/tokens/delete-all", workspace=False)

    def find_token(self, target: str) -> AccessToken | None:
        """One of the caller's tokens by name, or by numeric id."""
        for token in self.list_tokens():
            if token.name == target or str(token.id) == target:
                return token
        return None
