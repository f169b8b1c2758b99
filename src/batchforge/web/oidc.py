"""OpenID Connect single sign-on for the web UI: authorization code flow with PKCE.

One relying party (this server) and one provider (``BATCHFORGE_OIDC_ISSUER``):

1. :func:`begin` reads the provider's discovery document (its ``issuer`` must be the configured
   one: OpenID Connect Discovery 1.0 §4.3), makes a ``state``, a ``nonce`` and a PKCE
   ``code_verifier`` (RFC 7636, method ``S256``), keeps them in a short-lived sealed cookie and
   returns the authorization URL.
2. :func:`finish` checks ``state`` against the cookie (constant time), exchanges the code
   (with the verifier; client_secret_basic per RFC 6749 §2.3.1), verifies the ID token's
   signature against the provider's JWKS (asymmetric algorithms only; never ``none`` or an
   HMAC keyed with a public value), its ``iss``, ``aud`` (and ``azp``), ``exp``, ``iat`` and
   ``nonce`` (OpenID Connect Core 1.0 §3.1.3.7), then reads the userinfo endpoint, whose
   ``sub`` must be the ID token's (Core §5.3.2).

What the provider says about the user becomes an :class:`~batchforge.services.sso.Identity`;
:mod:`batchforge.services.sso` decides who may sign in and as what.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from ipaddress import ip_address
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import httpx
import jwt

from batchforge.errors import BatchforgeError, ConfigurationError
from batchforge.services.sso import Identity, SignInRefused
from batchforge.settings import Settings

STATE_COOKIE = "bf_oidc"
STATE_CONTEXT = "web-oidc"
STATE_SECONDS = 600
DISCOVERY_SECONDS = 3600
HTTP_TIMEOUT = 15.0
LEEWAY_SECONDS = 60
# Signature algorithms accepted for ID tokens: asymmetric only (JWA, RFC 7518 §3.1).
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512")


class ProviderUnavailable(BatchforgeError):
    """The OpenID provider could not be reached or answered something unusable."""

    code = "sso-unavailable"
    status = 502


@dataclass(frozen=True)
class Pending:
    """What :func:`begin` remembers for :func:`finish` (in the sealed state cookie)."""

    state: str
    nonce: str
    verifier: str
    next: str
    expires: int


_discovery: dict[str, tuple[float, dict[str, Any]]] = {}
_jwks: dict[str, jwt.PyJWKSet] = {}


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


def check_issuer(issuer: str) -> str:
    """The issuer URL, refused unless https (or http on a loopback address, for tests and
    local providers): tokens and the client secret travel to it."""
    parts = urlsplit(issuer)
    if parts.scheme == "https" or (parts.scheme == "http" and _loopback(parts.hostname or "")):
        return issuer.rstrip("/")
    raise ConfigurationError(
        f"BATCHFORGE_OIDC_ISSUER must be an https URL, not '{issuer}'.",
        field="oidc_issuer",
        hint="Plain http is accepted only on a loopback address.",
    )


def _get_json(url: str, **kwargs: Any) -> dict[str, Any]:
    try:
        response = httpx.get(url, timeout=HTTP_TIMEOUT, **kwargs)
    except httpx.HTTPError as problem:
        raise ProviderUnavailable(
            f"The sign-in provider cannot be reached ({type(problem).__name__})."
        ) from None
    if response.status_code != 200:
        raise ProviderUnavailable(f"The sign-in provider answered {response.status_code}.")
    try:
        data = response.json()
    except ValueError:
        raise ProviderUnavailable("The sign-in provider did not answer JSON.") from None
    if not isinstance(data, dict):
        raise ProviderUnavailable("The sign-in provider did not answer a JSON object.")
    return data


def discovery(settings: Settings) -> dict[str, Any]:
    """The provider's metadata (cached for an hour), checked against the configured issuer."""
    issuer = check_issuer(settings.oidc_issuer or "")
    cached = _discovery.get(issuer)
    if cached and cached[0] > time.monotonic():
        return cached[1]
    meta = _get_json(f"{issuer}/.well-known/openid-configuration")
    if str(meta.get("issuer", "")).rstrip("/") != issuer:
        raise ProviderUnavailable("The provider's discovery document names another issuer.")
    for key in ("authorization_endpoint", "token_endpoint", "jwks_uri", "userinfo_endpoint"):
        if not isinstance(meta.get(key), str):
            raise ProviderUnavailable(f"The provider's discovery document has no {key}.")
    _discovery[issuer] = (time.monotonic() + DISCOVERY_SECONDS, meta)
    return meta


def _challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def begin(settings: Settings, redirect_uri: str, next_path: str) -> tuple[str, Pending]:
    """The provider's authorization URL and what to remember until the callback."""
    meta = discovery(settings)
    pending = Pending(
        state=secrets.token_urlsafe(32),
        nonce=secrets.token_urlsafe(32),
        verifier=secrets.token_urlsafe(48),
        next=next_path,
        expires=int(time.time()) + STATE_SECONDS,
    )
    query = urlencode(
        {
            "response_type": "code",
            "client_id": settings.oidc_client_id,
            "redirect_uri": redirect_uri,
            "scope": settings.oidc_scopes,
            "state": pending.state,
            "nonce": pending.nonce,
            "code_challenge": _challenge(pending.verifier),
            "code_challenge_method": "S256",
        }
    )
    return f"{meta['authorization_endpoint']}?{query}", pending


def _client_auth(settings: Settings) -> str:
    """HTTP Basic credentials of the client: each part form-urlencoded first (RFC 6749
    §2.3.1)."""
    secret = settings.oidc_client_secret.get_secret_value() if settings.oidc_client_secret else ""
    pair = f"{quote(settings.oidc_client_id or '', safe='')}:{quote(secret, safe='')}"
    return "Basic " + base64.b64encode(pair.encode()).decode("ascii")


def _signing_key(meta: dict[str, Any], token: str) -> jwt.PyJWK:
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise SignInRefused("The provider's ID token is malformed.") from None
    if header.get("alg") not in ALGORITHMS:
        raise SignInRefused(f"ID tokens signed with '{header.get('alg')}' are not accepted.")
    uri = str(meta["jwks_uri"])
    for attempt in range(2):  # an unknown key id: the provider may have rotated; refetch once
        if attempt or uri not in _jwks:
            try:
                _jwks[uri] = jwt.PyJWKSet.from_dict(_get_json(uri))
            except jwt.PyJWTError:
                raise ProviderUnavailable("The provider's JWKS holds no usable key.") from None
        for key in _jwks[uri].keys:
            if header.get("kid") in (None, key.key_id):
                return key
    raise SignInRefused("The ID token is signed with a key the provider does not publish.")


def verify_id_token(settings: Settings, meta: dict[str, Any], token: str, nonce: str) -> dict:
    """The ID token's claims once its signature and claims check out (Core §3.1.3.7)."""
    key = _signing_key(meta, token)
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key=key,
            algorithms=list(ALGORITHMS),
            audience=settings.oidc_client_id,
            issuer=str(meta["issuer"]),
            leeway=LEEWAY_SECONDS,
            options={"require": ["iss", "sub", "aud", "exp", "iat"]},
        )
    except jwt.PyJWTError as problem:
        raise SignInRefused(f"The provider's ID token is not valid: {problem}.") from None
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if len(audiences) > 1 and claims.get("azp") != settings.oidc_client_id:
        raise SignInRefused("The ID token was issued to another client (azp).")
    if not hmac.compare_digest(str(claims.get("nonce", "")), nonce):
        raise SignInRefused("The ID token does not answer this sign-in (nonce).")
    return claims


def finish(
    settings: Settings, pending: Pending | None, params: dict[str, str], redirect_uri: str
) -> Identity:
    """The signed-in identity from the provider's callback ``params`` (SignInRefused when the
    callback does not answer ``pending``, or the provider refused)."""
    if params.get("error"):
        text = params.get("error_description") or params["error"]
        raise SignInRefused(f"The sign-in provider refused: {text[:200]}")
    if pending is None or pending.expires < time.time():
        raise SignInRefused("This sign-in has expired or was not started here; try again.")
    if not hmac.compare_digest(params.get("state", ""), pending.state):
        raise SignInRefused("This sign-in does not match the one started here (state).")
    code = params.get("code", "")
    if not code:
        raise SignInRefused("The provider sent no authorization code.")
    meta = discovery(settings)
    try:
        response = httpx.post(
            str(meta["token_endpoint"]),
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "code_verifier": pending.verifier,
            },
            headers={"Authorization": _client_auth(settings), "Accept": "application/json"},
            timeout=HTTP_TIMEOUT,
        )
    except httpx.HTTPError as problem:
        raise ProviderUnavailable(
            f"The sign-in provider cannot be reached ({type(problem).__name__})."
        ) from None
    if response.status_code != 200:
        raise SignInRefused(
            f"The sign-in provider refused the authorization code ({response.status_code})."
        )
    tokens = response.json()
    claims = verify_id_token(settings, meta, str(tokens.get("id_token", "")), pending.nonce)
    info = _get_json(
        str(meta["userinfo_endpoint"]),
        headers={"Authorization": f"Bearer {tokens.get('access_token', '')}"},
    )
    if info.get("sub") != claims["sub"]:
        raise SignInRefused("The provider's userinfo is about another user (sub).")
    merged = {**claims, **info}
    groups = merged.get(settings.oidc_groups_claim) or []
    return Identity(
        issuer=str(meta["issuer"]),
        subject=str(claims["sub"]),
        email=str(merged.get("email") or ""),
        email_verified=merged.get("email_verified") is True,
        groups=[str(g) for g in groups] if isinstance(groups, list) else [str(groups)],
        name=str(merged.get("name") or merged.get("preferred_username") or ""),
    )


def forget_provider_cache() -> None:
    """Drop cached discovery documents and key sets (tests start a provider per test)."""
    _discovery.clear()
    _jwks.clear()
