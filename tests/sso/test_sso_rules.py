"""Who may sign in with OpenID Connect and as what (``services/sso.py``), on SQLite and
PostgreSQL; and the ID token checks of ``web/oidc.py`` (OpenID Connect Core 1.0 §3.1.3.7:
signature by a key of the provider's JWKS, ``iss``, ``aud``, ``exp``, ``nonce``; RFC 8725
§3.1/§3.2: the algorithm is not taken on the token's word — no ``none``, no HMAC)."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import func, select

from batchforge.db import models
from batchforge.services import accounts, sso
from batchforge.services.context import AppContext
from batchforge.services.sso import Identity, SignInRefused
from batchforge.settings import Settings
from batchforge.web import oidc

ISSUER = "https://id.example.org"


def _identity(sub: str, email: str, groups: list[str] | None = None, verified: bool = True):
    return Identity(ISSUER, sub, email, verified, groups or [])


def _configure(ctx: AppContext, **values: str) -> None:
    settings = ctx.settings
    settings.oidc_allowed_domains = values.get("domains", "")
    settings.oidc_owner_groups = values.get("owners", "admins")
    settings.oidc_member_groups = values.get("members", "")
    settings.oidc_organization = values.get("org", "default")


def _role(ctx: AppContext, user_id: int, org: str) -> str | None:
    with ctx.db.transaction() as session:
        return session.scalars(
            select(models.OrgMember.role)
            .join(models.Organization, models.Organization.id == models.OrgMember.org_id)
            .where(models.OrgMember.user_id == user_id, models.Organization.name == org)
        ).first()


def _counts(ctx: AppContext) -> tuple[int, ...]:
    with ctx.db.transaction() as session:
        return tuple(
            session.scalar(select(func.count()).select_from(model)) or 0
            for model in (models.User, models.UserIdentity, models.OrgMember)
        )


def test_first_sign_in_creates_the_user_groups_give_the_role_and_leaving_demotes(
    app_ctx: AppContext, admin_token: str
) -> None:
    _configure(app_ctx)
    ada = sso.sign_in(app_ctx, _identity("s-ada", "Ada@Example.org", ["admins"]))
    assert _role(app_ctx, ada, "default") == "owner"
    assert accounts.principal_of_user(app_ctx, ada).roles  # owner of the default workspace
    # The same subject, a new e-mail and no group any more: the same user, now a member.
    again = sso.sign_in(app_ctx, _identity("s-ada", "ada.l@example.org", ["staff"]))
    assert again == ada and _role(app_ctx, ada, "default") == "member"
    with app_ctx.db.transaction() as session:
        user = session.get(models.User, ada)
        assert user is not None and user.user_name == "ada" and user.email == "ada@example.org"


def test_the_last_owner_is_not_demoted(app_ctx: AppContext, admin_token: str) -> None:
    _configure(app_ctx, org="research")
    solo = sso.sign_in(app_ctx, _identity("s-solo", "solo@example.org", ["admins"]))
    assert _role(app_ctx, solo, "research") == "owner"
    sso.sign_in(app_ctx, _identity("s-solo", "solo@example.org", []))
    assert _role(app_ctx, solo, "research") == "owner"  # else nobody would own it


def test_a_verified_email_links_an_existing_user_and_names_never_clash(
    app_ctx: AppContext, admin_token: str
) -> None:
    _configure(app_ctx)
    carol_id, _ = accounts.create_user(app_ctx, "carol")
    assert sso.sign_in(app_ctx, _identity("s-carol", "carol@localhost")) == carol_id
    other = sso.sign_in(app_ctx, _identity("s-other", "carol@elsewhere.example"))
    assert other != carol_id
    with app_ctx.db.transaction() as session:
        user = session.get(models.User, other)
        assert user is not None and user.user_name == "carol-2"


@pytest.mark.parametrize(
    ("identity", "reason"),
    [
        (_identity("s1", "x@evil.example", ["admins"]), "at 'evil.example' may not sign in"),
        (_identity("s2", "x@example.org", ["admins"], verified=False), "did not vouch"),
        (_identity("s3", "", ["admins"]), "did not vouch"),
        (_identity("s4", "x@example.org", ["visitors"]), "not in a group allowed"),
    ],
)
def test_refused_sign_ins_write_nothing(
    app_ctx: AppContext, admin_token: str, identity: Identity, reason: str
) -> None:
    _configure(app_ctx, domains="example.org, Example.com", members="staff")
    before = _counts(app_ctx)
    with pytest.raises(SignInRefused) as refused:
        sso.sign_in(app_ctx, identity)
    assert reason in refused.value.message and refused.value.status == 403
    assert _counts(app_ctx) == before


def test_a_disabled_user_is_refused(app_ctx: AppContext, admin_token: str) -> None:
    _configure(app_ctx)
    user_id = sso.sign_in(app_ctx, _identity("s-dis", "dis@example.org"))
    with app_ctx.db.transaction() as session:
        user = session.get(models.User, user_id)
        assert user is not None
        user.disabled = True
    with pytest.raises(SignInRefused, match="disabled"):
        sso.sign_in(app_ctx, _identity("s-dis", "dis@example.org"))


# --- the ID token ----------------------------------------------------------------------------

JWKS_URI = f"{ISSUER}/jwks"
META = {"issuer": ISSUER, "jwks_uri": JWKS_URI}


def _rsa() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def provider_key() -> Any:
    """A provider key published in the (cached) JWKS under kid 'k1'."""
    key = _rsa()
    public = jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    oidc.forget_provider_cache()
    oidc._jwks[JWKS_URI] = jwt.PyJWKSet.from_dict({"keys": [{**public, "kid": "k1"}]})
    yield key
    oidc.forget_provider_cache()


def _settings() -> Settings:
    return Settings(oidc_client_id="bf-client")


def _claims(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {"iss": ISSUER, "sub": "u1", "aud": "bf-client", "iat": now, "exp": now + 300}
    return {**claims, "nonce": "n-1", **changes}


def test_a_well_signed_id_token_passes(provider_key: Any) -> None:
    token = jwt.encode(_claims(), provider_key, algorithm="RS256", headers={"kid": "k1"})
    assert oidc.verify_id_token(_settings(), META, token, "n-1")["sub"] == "u1"


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"nonce": "n-other"}, "nonce"),
        ({"aud": "another-client"}, "not valid"),
        ({"iss": "https://evil.example"}, "not valid"),
        ({"exp": int(time.time()) - 3600}, "not valid"),
        ({"aud": ["bf-client", "x"], "azp": "x"}, "azp"),
    ],
)
def test_id_tokens_with_wrong_claims_are_refused(
    provider_key: Any, changes: dict[str, Any], reason: str
) -> None:
    token = jwt.encode(_claims(**changes), provider_key, algorithm="RS256", headers={"kid": "k1"})
    with pytest.raises(SignInRefused, match=reason):
        oidc.verify_id_token(_settings(), META, token, "n-1")


def test_unsigned_hmac_and_foreign_key_tokens_are_refused(provider_key: Any) -> None:
    unsigned = jwt.encode(_claims(), None, algorithm="none")
    public_pem = provider_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    # HS256 keyed with the provider's public key (the classic algorithm confusion): PyJWT
    # refuses to sign with a PEM, so the token is put together by hand.
    import base64
    import hashlib
    import hmac
    import json

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    head = b64(json.dumps({"alg": "HS256", "kid": "k1"}).encode())
    body = b64(json.dumps(_claims()).encode())
    mac = hmac.new(public_pem, f"{head}.{body}".encode(), hashlib.sha256).digest()
    confused = f"{head}.{body}.{b64(mac)}"
    foreign = jwt.encode(_claims(), _rsa(), algorithm="RS256", headers={"kid": "k1"})
    for token, reason in [(unsigned, "'none'"), (confused, "'HS256'"), (foreign, "not valid")]:
        with pytest.raises(SignInRefused, match=reason):
            oidc.verify_id_token(_settings(), META, token, "n-1")


def test_the_issuer_must_be_https_except_on_loopback() -> None:
    assert oidc.check_issuer("http://127.0.0.1:9000/") == "http://127.0.0.1:9000"
    assert oidc.check_issuer("https://id.example.org") == "https://id.example.org"
    with pytest.raises(Exception, match="https"):
        oidc.check_issuer("http://id.example.org")
