"""Who may sign in with OpenID Connect, and as what (the rules; ``web/oidc.py`` speaks the
protocol).

- The e-mail must be verified by the provider and, when ``BATCHFORGE_OIDC_ALLOWED_DOMAINS`` is
  set, in one of those domains.
- With ``BATCHFORGE_OIDC_MEMBER_GROUPS`` set, the user must be in one of them (or in an owner
  group).
- The user is found by ``(issuer, sub)``; on a first sign-in, an existing user with the same
  (verified) e-mail and no identity at this issuer is linked, else a user is created.
- The user joins ``BATCHFORGE_OIDC_ORGANIZATION``: as owner when in one of
  ``BATCHFORGE_OIDC_OWNER_GROUPS``, else as member; an owner who left the owner groups is
  demoted to member at the next sign-in, unless the organization would be left without one.
- A disabled user is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from batchforge.db import models
from batchforge.errors import BatchforgeError
from batchforge.services import accounts
from batchforge.services.context import AppContext
from batchforge.settings import Settings

USER_NAME_MAX = 40


class SignInRefused(BatchforgeError):
    """Single sign-on refused this user or this callback (the page says why)."""

    code = "sign-in-refused"
    status = 403


@dataclass(frozen=True)
class Identity:
    """What the provider vouched for."""

    issuer: str
    subject: str
    email: str
    email_verified: bool
    groups: list[str] = field(default_factory=list)
    name: str = ""


def _listed(value: str) -> set[str]:
    return {item.strip() for item in value.split(",") if item.strip()}


def org_role(settings: Settings, identity: Identity) -> str:
    """``owner`` or ``member`` of the SSO organization; :class:`SignInRefused` when the
    e-mail or the groups do not let this user in."""
    email = identity.email.strip().lower()
    if not email or "@" not in email or not identity.email_verified:
        raise SignInRefused(
            "The sign-in provider did not vouch for your e-mail address (none, or unverified).",
            hint="Verify your e-mail address at the provider, then sign in again.",
        )
    domains = {d.lower() for d in _listed(settings.oidc_allowed_domains)}
    domain = email.rsplit("@", 1)[1]
    if domains and domain not in domains:
        raise SignInRefused(f"E-mail addresses at '{domain}' may not sign in to this server.")
    groups = set(identity.groups)
    if groups & _listed(settings.oidc_owner_groups):
        return "owner"
    members = _listed(settings.oidc_member_groups)
    if members and not groups & members:
        raise SignInRefused(
            "Your account is not in a group allowed to sign in to this server.",
            hint="Ask an administrator to add you to one of the allowed groups.",
        )
    return "member"


def _free_user_name(session: Session, email: str) -> str:
    base = re.sub(r"[^A-Za-z0-9_.-]", "-", email.split("@", 1)[0]).strip("-.") or "user"
    base = base[: USER_NAME_MAX - 4]
    name, number = base, 1
    while session.scalar(select(models.User.id).where(models.User.user_name == name)):
        number += 1
        name = f"{base}-{number}"
    return name


def _user_for(session: Session, identity: Identity) -> models.User:
    linked = session.scalars(
        select(models.User)
        .join(models.UserIdentity, models.UserIdentity.user_id == models.User.id)
        .where(
            models.UserIdentity.issuer == identity.issuer,
            models.UserIdentity.subject == identity.subject,
        )
    ).first()
    if linked is not None:
        return linked
    email = identity.email.strip().lower()
    at_issuer = select(models.UserIdentity.user_id).where(
        models.UserIdentity.issuer == identity.issuer
    )
    user = session.scalars(
        select(models.User)
        .where(func.lower(models.User.email) == email, models.User.id.not_in(at_issuer))
        .order_by(models.User.id)
    ).first()
    if user is None:
        user = models.User(user_name=_free_user_name(session, email), email=email)
        session.add(user)
        session.flush()
    session.add(
        models.UserIdentity(
            user_id=user.id, issuer=identity.issuer, subject=identity.subject, email=email
        )
    )
    session.flush()
    return user


def _set_org_role(session: Session, org_name: str, user_id: int, role: str) -> None:
    org = session.scalars(
        select(models.Organization).where(models.Organization.name == org_name)
    ).first()
    if org is None:
        org = models.Organization(name=org_name, full_name=org_name)
        session.add(org)
        session.flush()
    member_id = accounts.ensure_org_member(session, org.id, user_id, role)
    member = session.get(models.OrgMember, member_id)
    assert member is not None
    if member.role == role:
        return
    if role == "member":
        owners = session.scalar(
            select(func.count())
            .select_from(models.OrgMember)
            .where(models.OrgMember.org_id == org.id, models.OrgMember.role == "owner")
        )
        if (owners or 0) <= 1:
            return  # never leave the organization without an owner
    member.role = role


def sign_in(ctx: AppContext, identity: Identity) -> int:
    """The id of the user ``identity`` signs in as (created on a first sign-in)."""
    role = org_role(ctx.settings, identity)
    for attempt in range(2):  # a concurrent first sign-in of the same user: look again
        try:
            with ctx.db.transaction() as session:
                user = _user_for(session, identity)
                if user.disabled:
                    raise SignInRefused(
                        f"User '{user.user_name}' is disabled.",
                        hint="An administrator can enable it again ('batchforge users enable').",
                    )
                _set_org_role(session, ctx.settings.oidc_organization, user.id, role)
                return user.id
        except IntegrityError:
            if attempt:
                raise
    raise AssertionError("unreachable")
