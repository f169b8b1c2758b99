"""``batchforge members``: an organization's members and their role (owner | member), as
``tw members`` (``add|delete|update -u USER -o ORG``, ``list -o ORG``, ``leave -o ORG``); the
positional user and ``--org`` are batchforge's aliases."""

from __future__ import annotations

from typing import Annotated

import typer

from batchforge.cli.common import fail, pick, state
from batchforge.cli.scope import org_of, show
from batchforge.cli.tw_infra import Max, Offset, OrgOpt, Page, emit, page
from batchforge.client.accounts import AccountsApi

app = typer.Typer(help="Organization members.", no_args_is_help=True)
UserArg = Annotated[
    str | None, typer.Argument(help="User name or e-mail (or -u).", show_default=False)
]
UserOpt = Annotated[
    str | None, typer.Option("--user", "-u", help="User name or e-mail.", show_default=False)
]
StartsWith = Annotated[
    str | None,
    typer.Option("--filter", "-f", help="User names starting with this", show_default=False),
]
ROLES = ("owner", "member")


def _org_name(api: AccountsApi, org_id: int) -> str:
    return str(api.describe_org(org_id)["name"])


@app.command("add")
def add(
    ctx: typer.Context, user_arg: UserArg = None, user: UserOpt = None, org: OrgOpt = None
) -> None:
    """Make a user a member of the organization."""
    who = pick(user_arg, None, user, "user")
    st = state(ctx)
    with st.client() as client:
        api = AccountsApi(client)
        org_id = org_of(api, org)
        member = api.add_member(org_id, who)
        org_name = _org_name(api, org_id)
    emit(
        st,
        f"Member '{member['userName']}' (id {member['memberId']}) added to '{org_name}' "
        "organization.",
        {"orgName": org_name, "member": member},
    )


@app.command("list")
def list_members(
    ctx: typer.Context,
    org: OrgOpt = None,
    starts_with: StartsWith = None,
    max_: Max = None,
    page_: Page = None,
    offset: Offset = None,
) -> None:
    """The organization's members."""
    _list(ctx, org, starts_with, (max_, page_, offset), collaborators=False)


def _list(
    ctx: typer.Context,
    org: str | None,
    starts_with: str | None,
    paging: tuple[int | None, int | None, int | None],
    collaborators: bool,
) -> None:
    """The organization's members (or its collaborators, ``tw collaborators list``) whose
    user name starts with ``starts_with``, paged as tw pages."""
    st = state(ctx)
    with st.client() as client:
        api = AccountsApi(client)
        org_id = org_of(api, org)
        items = api.list_collaborators(org_id) if collaborators else api.list_members(org_id)
        org_name = _org_name(api, org_id) if st.structured and not collaborators else ""
    prefix = (starts_with or "").lower()
    items = page(
        [m for m in items if str(m.get("userName", "")).lower().startswith(prefix)], *paging
    )
    if st.structured:
        shape = {"organizationId": org_id} if collaborators else {"orgName": org_name}
        emit(st, "", {**shape, "members": items})
        return
    show(
        st,
        "Collaborators" if collaborators else "Members",
        ["Member ID", "User", "E-mail", "Role"],
        ["memberId", "userName", "email", "role"],
        items,
    )


collaborators_app = typer.Typer(
    help="Organization collaborators: users in its workspaces who are not its members.",
    no_args_is_help=True,
)


@collaborators_app.command("list")
def list_collaborators(
    ctx: typer.Context,
    org: OrgOpt = None,
    starts_with: StartsWith = None,
    max_: Max = None,
    page_: Page = None,
    offset: Offset = None,
) -> None:
    """The organization's collaborators (as ``tw collaborators list -o ORG``)."""
    _list(ctx, org, starts_with, (max_, page_, offset), collaborators=True)


@app.command("delete")
def delete(
    ctx: typer.Context, user_arg: UserArg = None, user: UserOpt = None, org: OrgOpt = None
) -> None:
    """Remove a member (with its team memberships and workspace participations)."""
    who = pick(user_arg, None, user, "user")
    st = state(ctx)
    with st.client() as client:
        api = AccountsApi(client)
        org_id = org_of(api, org)
        api.delete_member(org_id, api.member_id(org_id, who))
        org_name = _org_name(api, org_id)
    emit(
        st,
        f"Member '{who}' removed from '{org_name}' organization.",
        {"user": who, "organizationName": org_name},
    )


def _set_role(ctx: typer.Context, who: str, new_role: str, org: str | None) -> None:
    role = new_role.strip().lower()
    if role == "collaborator":
        raise fail(
            "A member cannot be made a collaborator: a collaborator is a non-member added to "
            "a workspace (participants add -t COLLABORATOR); delete the member first."
        )
    if role not in ROLES:
        raise fail(f"--role must be owner or member, got '{new_role}'.", code=2)
    st = state(ctx)
    with st.client() as client:
        api = AccountsApi(client)
        org_id = org_of(api, org)
        api.set_member_role(org_id, api.member_id(org_id, who), role)
        org_name = _org_name(api, org_id)
    emit(
        st,
        f"Member '{who}' updated to role '{role}' in '{org_name}' organization.",
        {"user": who, "organizationName": org_name, "role": role},
    )


@app.command("update")
def update(
    ctx: typer.Context,
    user_arg: UserArg = None,
    user: UserOpt = None,
    new_role: Annotated[
        str | None, typer.Option("--role", "-r", help="OWNER or MEMBER", show_default=False)
    ] = None,
    org: OrgOpt = None,
) -> None:
    """Change a member's organization role (tw's form of ``role``)."""
    if new_role is None:
        raise fail("Missing option '--role'.", code=2)
    _set_role(ctx, pick(user_arg, None, user, "user"), new_role, org)


@app.command("role")
def role(
    ctx: typer.Context,
    user: Annotated[str, typer.Argument(help="User name or e-mail.")],
    new_role: Annotated[str, typer.Argument(help="owner or member")],
    org: OrgOpt = None,
) -> None:
    """Change a member's organization role (batchforge's form of ``update``)."""
    _set_role(ctx, user, new_role, org)


@app.command("leave")
def leave(ctx: typer.Context, org: OrgOpt = None) -> None:
    """Leave an organization (its teams and workspaces too)."""
    st = state(ctx)
    with st.client() as client:
        api = AccountsApi(client)
        org_id = org_of(api, org)
        org_name = _org_name(api, org_id)
        api.leave_org(org_id)
    emit(st, f"You left '{org_name}' organization.", {"orgName": org_name})
