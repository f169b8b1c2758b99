"""Browser tests of the teams UI (issue #13): the header's workspace switcher, the workspace
settings page (participants — members and teams — with roles; add, change, remove, leave) and
the organization page (members with their org role, teams and their members).

Real Chromium against a real server (``tests/web/conftest.py``); the accounts are made through
the services (T1's), the UI's own forms do the rest.  Screenshots go to
``test-artifacts/web/teams-*.png``, each page passing the accessibility audit.
"""

from __future__ import annotations

import re

from playwright.sync_api import Locator, Page, expect

from batchforge.schemas.accounts import AddParticipantRequest
from batchforge.services import accounts, orgs, participants, teams
from batchforge.services.context import AppContext, Principal
from tests.web.conftest import UiServer
from tests.web.ui import Visits, sign_in


def _admin(ctx: AppContext, token: str) -> tuple[Principal, int]:
    principal = accounts.authenticate(ctx, token)
    (org_id,) = principal.org_roles
    return principal, org_id


def _notice(page: Page, text: str) -> None:
    expect(page.locator(".notice").filter(has_text=text)).to_be_visible()


def _switcher(page: Page) -> Locator:
    return page.get_by_role("banner").locator("form.switcher")


def test_switch_workspace_and_manage_members_teams_and_participants(
    page: Page, ui: UiServer
) -> None:
    ctx = ui.ctx
    admin, org_id = _admin(ctx, ui.token)
    lab = accounts.create_workspace(ctx, accounts.DEFAULT_ORG, "lab", admin.user_id)
    accounts.create_user(ctx, "bob")
    visits = Visits()
    sign_in(page, ui.token)

    # The switcher lists the workspaces grouped by organization, the default one chosen.
    switcher = _switcher(page)
    group = switcher.locator(f"optgroup[label='{accounts.DEFAULT_ORG}']")
    expect(group.locator("option")).to_have_text(["default (owner)", "lab (owner)"])
    expect(switcher.get_by_label("Workspace")).to_have_value(str(admin.default_workspace_id))
    visits.shot(page, "teams-overview-switcher")

    # Switching: every page now acts in "lab", and the choice stays from page to page.
    page.goto("/ui/credentials")
    switcher.get_by_label("Workspace").select_option(str(lab))
    switcher.get_by_role("button", name="Switch").click()
    _notice(page, f"Now working in {accounts.DEFAULT_ORG} / lab.")
    expect(page).to_have_url(re.compile(r"/ui/credentials$"))
    switcher.get_by_role("link", name="Workspace settings").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Workspace {accounts.DEFAULT_ORG} / lab"
    )
    expect(switcher.get_by_label("Workspace")).to_have_value(str(lab))
    # The URL's workspaceId wins over the session's choice and becomes it (so the forms of
    # a page opened that way act in the workspace it shows).
    page.goto(f"/ui/workspace?workspaceId={admin.default_workspace_id}")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Workspace {accounts.DEFAULT_ORG} / default"
    )
    page.goto("/ui/credentials")
    expect(switcher.get_by_label("Workspace")).to_have_value(str(admin.default_workspace_id))
    page.goto(f"/ui/credentials?workspaceId={lab}")
    page.goto("/ui/workspace")
    expect(page.get_by_role("heading", level=1)).to_contain_text("/ lab")

    # Organization: add bob, create a team, put bob in it.
    switcher.get_by_role("link", name="Organization").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Organization {accounts.DEFAULT_ORG}"
    )
    page.get_by_label("User name or e-mail", exact=True).fill("bob")
    page.get_by_role("button", name="Add member").click()
    _notice(page, "'bob' added to the organization as member.")
    page.get_by_label("Team name").fill("bio")
    page.get_by_label("Description").fill("Bioinformatics")
    page.get_by_role("button", name="Create team").click()
    _notice(page, "Team 'bio' created.")
    page.get_by_label("Add to bio: user name or e-mail").fill("bob")
    page.get_by_role("button", name="Add to bio").click()
    _notice(page, "'bob' added to the team.")
    expect(page.locator(".team-members")).to_contain_text("bob")
    # An unknown user: the service's 404 names the problem, nothing is added.
    page.get_by_label("User name or e-mail", exact=True).fill("nobody-here")
    page.get_by_role("button", name="Add member").click()
    expect(page.get_by_role("alert")).to_contain_text("nobody-here")
    assert [m.userName for m in orgs.list_members(ctx, admin, org_id)] == ["admin", "bob"]
    visits.shot(page, "teams-org-settings")

    # Workspace "lab": the team as view, bob directly as maintain, then launch, then removed.
    page.goto("/ui/workspace")
    page.get_by_label("Team (or a member)").select_option(label="bio")
    page.get_by_label("Role", exact=True).select_option("view")
    page.get_by_role("button", name="Add participant").click()
    _notice(page, "'bio' added to the workspace as view.")
    page.get_by_label("Member's user name or e-mail").fill("bob")
    page.get_by_label("Role", exact=True).select_option("maintain")
    page.get_by_role("button", name="Add participant").click()
    _notice(page, "'bob' added to the workspace as maintain.")
    assert accounts.principal_of_user(ctx, _user_id(ctx, admin, org_id, "bob")).roles[lab] == (
        "maintain"
    )
    page.get_by_label("Role of bob").select_option("launch")
    page.get_by_role("button", name="Change role of bob").click()
    _notice(page, "Role changed to launch.")
    row = page.get_by_role("row").filter(has_text="bob@localhost")
    expect(row.get_by_label("Role of bob")).to_have_value("launch")
    visits.shot(page, "teams-workspace-settings")
    page.on("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Remove bob").click()
    _notice(page, "Participant removed from the workspace.")
    expect(page.get_by_role("row").filter(has_text="bob@localhost")).to_have_count(0)
    # bob keeps the team's role.
    assert accounts.principal_of_user(ctx, _user_id(ctx, admin, org_id, "bob")).roles[lab] == (
        "view"
    )

    # Guards: the last owner can neither demote itself nor leave; nothing changes.
    page.get_by_label("Role of admin").select_option("view")
    page.get_by_role("button", name="Change role of admin").click()
    expect(page.get_by_role("alert")).to_contain_text("last owner or admin")
    page.get_by_role("button", name="Leave workspace").click()
    expect(page.get_by_role("alert")).to_contain_text("last owner or admin")
    assert accounts.authenticate(ctx, ui.token).roles[lab] == "owner"
    visits.shot(page, "teams-workspace-guard")


def _user_id(ctx: AppContext, admin: Principal, org_id: int, name: str) -> int:
    return next(m.userId for m in orgs.list_members(ctx, admin, org_id) if m.userName == name)


def test_a_viewer_sees_no_controls_and_a_forced_post_is_refused(page: Page, ui: UiServer) -> None:
    ctx = ui.ctx
    admin, org_id = _admin(ctx, ui.token)
    workspace = admin.default_workspace_id
    assert workspace is not None
    _, bob_token = accounts.create_user(ctx, "bob")
    accounts.create_user(ctx, "carol")
    orgs.add_member(ctx, admin, org_id, "bob")
    orgs.add_member(ctx, admin, org_id, "carol")
    participants.add_participant(
        ctx, admin, org_id, workspace, AddParticipantRequest(userNameOrEmail="bob"), "view"
    )
    team = teams.create_team(ctx, admin, org_id, "bio", "")
    visits = Visits()
    sign_in(page, bob_token)

    page.goto("/ui/workspace")
    expect(page.get_by_role("heading", name="Participants")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="admin@localhost")).to_contain_text("owner")
    expect(page.get_by_role("button", name="Add participant")).to_have_count(0)
    expect(page.get_by_role("button", name=re.compile("^Remove"))).to_have_count(0)
    expect(page.get_by_role("button", name="Leave workspace")).to_be_visible()
    visits.shot(page, "teams-workspace-viewer")
    page.goto(f"/ui/orgs/{org_id}")
    expect(page.get_by_role("row").filter(has_text="carol@localhost")).to_be_visible()
    expect(page.get_by_role("button", name="Add member")).to_have_count(0)
    expect(page.get_by_role("button", name="Create team")).to_have_count(0)
    visits.shot(page, "teams-org-member")

    # The forms refuse a POST made anyway (bob's own valid session and CSRF token).
    csrf = page.locator("meta[name=csrf-token]").get_attribute("content")
    assert csrf
    headers = {"Origin": ui.url}
    added = page.request.post(
        "/ui/workspace/participants",
        form={"csrf_token": csrf, "userNameOrEmail": "carol", "role": "admin"},
        headers=headers,
        max_redirects=0,
    )
    assert added.status == 403, added.status
    assert "workspace:write" in added.text()
    member = page.request.post(
        f"/ui/orgs/{org_id}/members", form={"csrf_token": csrf, "user": "nobody"}, headers=headers
    )
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert "Only an owner" in member.text()
    page.request.post(
        f"/ui/orgs/{org_id}/teams/{team.teamId}/members",
        form={"csrf_token": csrf, "userNameOrEmail": "bob"},
        headers=headers,
    )
    # Nothing was written.
    listed = participants.list_participants(ctx, admin, org_id, workspace)
    assert [p.userName for p in listed] == ["admin", "bob"]
    assert teams.list_team_members(ctx, admin, org_id, team.teamId) == []

    # A workspace bob is not in: its settings page is not found (no existence leak).
    other = accounts.create_workspace(ctx, accounts.DEFAULT_ORG, "private", admin.user_id)
    page.goto(f"/ui/workspace?workspaceId={other}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Not found")
    for chosen in (str(other), "\u00b2", "9" * 30):  # not his; a digit int() refuses; too big
        switched = page.request.post(
            "/ui/workspace/switch",
            form={"csrf_token": csrf, "workspaceId": chosen},
            headers=headers,
            max_redirects=0,
        )
        assert switched.status == 404, (chosen, switched.status)
        assert "bf_workspace" not in switched.headers.get("set-cookie", "")

    # bob leaves: he is in no workspace any more, his switcher choice is gone.
    page.goto("/ui/workspace")
    page.on("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Leave workspace").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert workspace not in accounts.authenticate(ctx, bob_token).roles
