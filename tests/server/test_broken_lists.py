"""One unreadable row never breaks a list, for every list (issue #16: "a list or page survives
one unreadable row (shows it as broken, not a 500)").

For each list one of two rows is damaged directly in the database: on SQLite a text column
holds bytes that are not UTF-8 (the driver cannot decode the row); on PostgreSQL, where a
column allows it, a JSON value with a lone surrogate or a status/role this version does not
know.  Then the API list answers 200 with the other row intact and the broken one named
``(unreadable)`` with a message saying how to delete it; ``GET`` by id answers (not a 5xx);
the UI page and the CLI list show it; deleting it by id works.  Without
:mod:`batchforge.services.broken_rows` every one of these answers 500.
"""

from __future__ import annotations

import secrets as token_bytes
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from typer.testing import CliRunner

from batchforge.cli.main import app as cli_app
from batchforge.db import models
from batchforge.forge.engine import JournalEntry
from batchforge.server.app import create_app
from batchforge.services.broken_rows import BROKEN_NAME
from batchforge.services.context import AppContext
from batchforge.services.forge_journal import DbJournal
from tests.cli.conftest import serve
from tests.server.hostile_ui import sign_in

Ids = dict[str, Any]


@dataclass(frozen=True)
class Case:
    """A list: how to make a row (returns its id), where the API lists and serves it."""

    table: str
    make: Callable[[Any, Ids, str], Any]
    list_path: str  # formatted with the ids (org, ws)
    key: str  # the list's field in the answer
    id_field: str
    item_path: str | None  # GET by id ({id}); None when the API has none
    delete_path: str
    column: str  # a text column to damage on SQLite
    value_damage: dict[str, Any] | None = None  # column -> value, on any database
    ui: str | None = None
    cli: tuple[str, ...] | None = None


def _pipeline(session: Any, ids: Ids, name: str) -> Any:
    row = models.Pipeline(
        workspace_id=ids["ws"],
        name=name,
        repository="https://github.com/nextflow-io/hello",
        launch={"pipeline": "https://github.com/nextflow-io/hello"},
        label_ids=[],
    )
    session.add(row)
    session.flush()
    return row.id


def _credentials(session: Any, ids: Ids, name: str) -> Any:
    row = models.Credentials(
        id=token_bytes.token_hex(8),
        workspace_id=ids["ws"],
        name=name,
        provider="aws",
        keys={"mode": "keys", "accessKey": "AKIAEXAMPLE"},
    )
    session.add(row)
    return row.id


def _env(session: Any, ids: Ids, name: str) -> Any:
    row = models.ComputeEnv(
        id=token_bytes.token_hex(8),
        workspace_id=ids["ws"],
        name=name,
        platform="aws-batch",
        region="us-east-1",
        config={"region": "us-east-1", "workDir": "s3://bucket/work"},
        tags={},
        forge_state={},
        status="AVAILABLE",
    )
    session.add(row)
    return row.id


def _link(session: Any, ids: Ids, name: str) -> Any:
    row = models.DataLink(
        id=f"v1-user-{token_bytes.token_hex(8)}",
        workspace_id=ids["ws"],
        source="custom",
        name=name,
        custom_name=name,
        bucket=f"bucket-{name}",
        prefix="",
        extras={},
    )
    session.add(row)
    return row.id


def _secret(session: Any, ids: Ids, name: str) -> Any:
    row = models.PipelineSecret(workspace_id=ids["ws"], name=name, value_encrypted="x")
    session.add(row)
    session.flush()
    return row.id


def _label(session: Any, ids: Ids, name: str) -> Any:
    row = models.Label(workspace_id=ids["ws"], name=name)
    session.add(row)
    session.flush()
    return row.id


def _token(session: Any, ids: Ids, name: str) -> Any:
    row = models.ApiToken(user_id=ids["user"], name=name, token_sha256=token_bytes.token_hex(32))
    session.add(row)
    session.flush()
    return row.id


def _org(session: Any, ids: Ids, name: str) -> Any:
    org = models.Organization(name=name, full_name="")
    session.add(org)
    session.flush()
    session.add(models.OrgMember(org_id=org.id, user_id=ids["user"], role="owner"))
    return org.id


def _workspace(session: Any, ids: Ids, name: str) -> Any:
    row = models.Workspace(org_id=ids["org"], name=name, full_name="")
    session.add(row)
    session.flush()
    session.add(
        models.WorkspaceParticipant(workspace_id=row.id, member_id=ids["member"], role="owner")
    )
    return row.id


def _team(session: Any, ids: Ids, name: str) -> Any:
    row = models.Team(org_id=ids["org"], name=name, description="")
    session.add(row)
    session.flush()
    return row.id


def _member(session: Any, ids: Ids, name: str) -> Any:
    user = models.User(user_name=name, email=f"{name}@example.org")
    session.add(user)
    session.flush()
    member = models.OrgMember(org_id=ids["org"], user_id=user.id, role="member")
    session.add(member)
    session.flush()
    return member.id


def _user(session: Any, ids: Ids, name: str) -> Any:
    row = models.User(user_name=name, email=f"{name}@example.org")
    session.add(row)
    session.flush()
    return row.id


def _participant(session: Any, ids: Ids, name: str) -> Any:
    member_id = _member(session, ids, name)
    row = models.WorkspaceParticipant(workspace_id=ids["ws"], member_id=member_id, role="launch")
    session.add(row)
    session.flush()
    return row.id


ORG = "/orgs/{org}"
CASES = {
    "pipelines": Case(
        "pipeline", _pipeline, "/pipelines", "pipelines", "pipelineId",
        "/pipelines/{id}", "/pipelines/{id}", "name",
        {"launch": {"computeEnvId": "\ud800"}}, "/ui/pipelines", ("pipelines", "list"),
    ),
    "credentials": Case(
        "credentials", _credentials, "/credentials", "credentials", "id",
        "/credentials/{id}", "/credentials/{id}", "name",
        {"status": "PAUSED"}, "/ui/credentials", ("credentials", "list"),
    ),
    "compute-envs": Case(
        "compute_env", _env, "/compute-envs", "computeEnvs", "id",
        "/compute-envs/{id}", "/compute-envs/{id}", "name",
        {"status": "PAUSED"}, "/ui/compute-envs", ("compute-envs", "list"),
    ),
    "data-links": Case(
        "data_link", _link, "/data-links", "dataLinks", "id",
        "/data-links/{id}", "/data-links/{id}", "name",
        {"extras": {"s3:DeleteObject": {"status": "granted", "hint": "\ud800"}}},
        "/ui/data", ("data-links", "list"),
    ),
    "secrets": Case(
        "pipeline_secret", _secret, "/pipeline-secrets?workspaceId={ws}", "pipelineSecrets", "id",
        "/pipeline-secrets/{id}?workspaceId={ws}", "/pipeline-secrets/{id}?workspaceId={ws}",
        "name",
        None, "/ui/secrets", ("secrets", "list"),
    ),
    "labels": Case(
        "label", _label, "/labels", "labels", "id", None, "/labels/{id}", "name",
    ),
    "tokens": Case(
        "api_token", _token, "/tokens", "tokens", "id", None, "/tokens/{id}", "name",
        None, "/ui/tokens", ("tokens", "list"),
    ),
    "orgs": Case(
        "organization", _org, "/orgs", "organizations", "orgId",
        "/orgs/{id}", "/orgs/{id}", "name", None, "/ui/runs", ("orgs", "list"),
    ),
    "workspaces": Case(
        "workspace", _workspace, ORG + "/workspaces", "workspaces", "id",
        ORG + "/workspaces/{id}", ORG + "/workspaces/{id}", "name",
        None, "/ui/runs", ("workspaces", "list"),
    ),
    "teams": Case(
        "team", _team, ORG + "/teams", "teams", "teamId",
        ORG + "/teams/{id}", ORG + "/teams/{id}", "name",
        None, "/ui/orgs/{org}", None,
    ),
    "members": Case(
        "org_member", _member, ORG + "/members", "members", "memberId",
        None, ORG + "/members/{id}", "role",
        {"role": "emperor"}, "/ui/orgs/{org}", None,
    ),
    "users": Case(
        "user_account", _user, "/users", "users", "id", "/users/{id}", "/users/{id}",
        "user_name", None, None, ("users", "list"),
    ),
    "participants": Case(
        "workspace_participant", _participant, ORG + "/workspaces/{ws}/participants",
        "participants", "participantId", None, ORG + "/workspaces/{ws}/participants/{id}",
        "role", {"role": "not a role!"}, "/ui/workspace", None,
    ),
}  # fmt: skip


@pytest.fixture
def http(app_ctx: AppContext, admin_token: str) -> Iterator[TestClient]:
    """The app over ASGI, answering 500s instead of raising (as a real server does)."""
    client = TestClient(
        create_app(app_ctx),
        base_url="http://batchforge.test",
        raise_server_exceptions=False,
        headers={"Authorization": f"Bearer {admin_token}"},
    )
    with client:
        yield client


def _ids(app_ctx: AppContext) -> Ids:
    """The admin's user, organization, org membership and default workspace."""
    with app_ctx.db.transaction() as session:
        user = session.scalars(select(models.User).order_by(models.User.id)).first()
        assert user is not None
        member = session.scalars(
            select(models.OrgMember).where(models.OrgMember.user_id == user.id)
        ).first()
        assert member is not None
        ws = session.scalars(
            select(models.Workspace.id).where(models.Workspace.org_id == member.org_id)
        ).first()
        return {"user": user.id, "org": member.org_id, "member": member.id, "ws": ws}


def _damage(app_ctx: AppContext, case: Case, row_id: Any, how: str) -> None:
    with app_ctx.db.transaction() as session:
        if how == "bytes":  # text the driver cannot decode (SQLite stores any bytes)
            session.execute(
                text(
                    f"UPDATE {case.table} SET {case.column} = CAST(X'ff80' AS TEXT) WHERE id = :i"
                ),
                {"i": row_id},
            )
        else:
            table = models.Base.metadata.tables[case.table]
            assert case.value_damage is not None
            session.execute(table.update().where(table.c.id == row_id).values(**case.value_damage))


# A member's or participant's role is what the last-owner rules read: those rows are damaged
# with a role this version cannot serve (they load; their answer does not validate): for a
# participant, not even a custom role's name could be it.
VALUE_ONLY = ("members", "participants")
PARAMS = [(name, "bytes") for name in CASES if name not in VALUE_ONLY] + [
    (name, "value") for name, case in CASES.items() if case.value_damage
]


@pytest.mark.parametrize(("name", "how"), PARAMS)
def test_one_unreadable_row_is_listed_as_broken_and_the_list_still_answers(
    http: TestClient,
    app_ctx: AppContext,
    admin_token: str,
    database_url: str,
    name: str,
    how: str,
) -> None:
    if how == "bytes" and not database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL stores only valid UTF-8")
    case = CASES[name]
    ids = _ids(app_ctx)
    with app_ctx.db.transaction() as session:
        good = case.make(session, ids, "good-one")
    with app_ctx.db.transaction() as session:
        bad = case.make(session, ids, "bad-one")
    _damage(app_ctx, case, bad, how)
    path = case.list_path.format(**ids)

    listed = http.get(path)
    assert listed.status_code == 200, listed.text
    items = {item[case.id_field]: item for item in listed.json()[case.key]}
    assert good in items and bad in items, items
    assert BROKEN_NAME not in str(items[good])
    assert BROKEN_NAME in str(items[bad]) and "could not read" in str(items[bad])

    if case.item_path:
        described = http.get(case.item_path.format(id=bad, **ids))
        assert described.status_code < 500, described.text
        assert BROKEN_NAME in described.text

    if case.ui:
        _assert_ui(app_ctx, admin_token, case.ui.format(**ids))
    if case.cli:
        _assert_cli(app_ctx, admin_token, case.cli, bad)

    deleted = http.delete(case.delete_path.format(id=bad, **ids))
    assert deleted.status_code in (200, 204), deleted.text
    after = http.get(path)
    assert after.status_code == 200, after.text
    remaining = [item[case.id_field] for item in after.json()[case.key]]
    assert good in remaining and bad not in remaining


def _assert_ui(app_ctx: AppContext, token: str, page_path: str) -> None:
    with serve(create_app(app_ctx)) as url, httpx.Client(base_url=url, timeout=120) as ui:
        sign_in(ui, token)
        page = ui.get(page_path)
    assert page.status_code == 200, page.text[:500]
    assert BROKEN_NAME in page.text, page.text[:2000]


def _assert_cli(app_ctx: AppContext, token: str, args: tuple[str, ...], bad: Any) -> None:
    with serve(create_app(app_ctx)) as url:
        base = ["--url", url, "--token", token]
        result = CliRunner().invoke(cli_app, [*base, *args], env={"BATCHFORGE_URL": ""})
    assert result.exit_code == 0, result.output
    assert str(bad) in result.output or BROKEN_NAME in result.output, result.output


def test_a_team_lists_its_members_when_one_cannot_be_read(
    http: TestClient, app_ctx: AppContext, database_url: str
) -> None:
    """A team's member list (``GET /orgs/{org}/teams/{team}/members``) shows an unreadable
    member as broken and the others as usual; the broken one is removed from the team by id.
    The member's role is damaged (a role this version does not know), which every database
    stores; on SQLite the user's name is also made undecodable bytes."""
    ids = _ids(app_ctx)
    with app_ctx.db.transaction() as session:
        team = _team(session, ids, "crew")
        members = [_member(session, ids, name) for name in ("good-one", "bad-one")]
        for member in members:
            session.add(models.TeamMember(team_id=team, member_id=member))
    good, bad = members
    _damage(app_ctx, CASES["members"], bad, "value")
    if database_url.startswith("sqlite"):
        with app_ctx.db.transaction() as session:
            session.execute(
                text(
                    "UPDATE user_account SET user_name = CAST(X'ff80' AS TEXT) WHERE id = "
                    "(SELECT user_id FROM org_member WHERE id = :i)"
                ),
                {"i": bad},
            )
    path = f"/orgs/{ids['org']}/teams/{team}/members"

    listed = http.get(path)
    assert listed.status_code == 200, listed.text
    items = {item["memberId"]: item for item in listed.json()["members"]}
    assert items[good]["userName"] == "good-one"
    assert items[bad]["userName"] == BROKEN_NAME and "could not read" in items[bad]["email"]

    removed = http.delete(f"{path}/{bad}/delete")
    assert removed.status_code in (200, 204), removed.text
    after = http.get(path).json()["members"]
    assert [item["memberId"] for item in after] == [good]


def test_an_unreadable_environment_with_forged_resources_is_not_deleted_silently(
    http: TestClient, app_ctx: AppContext, database_url: str
) -> None:
    """A compute environment whose row cannot be read cannot dispose of what it forged (the
    forge reads its spec from the row): while its journal lists AWS resources not deleted,
    ``DELETE`` is a 409 naming them and ``preserveResources`` (nothing changes); with
    ``preserveResources=true`` it goes, keeping them as asked.  One whose journal lists only
    deleted resources goes at once.  (Undecodable bytes: SQLite only.)"""
    if not database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL stores only valid UTF-8")
    ids = _ids(app_ctx)
    with app_ctx.db.transaction() as session:
        forged, spent = _env(session, ids, "forged-one"), _env(session, ids, "spent-one")
    for blob, ce_id, status in (("ff80", forged, "CREATED"), ("ff81", spent, "DELETED")):
        DbJournal(app_ctx, ce_id).record(
            JournalEntry(
                "queue:head", "batch-job-queue", f"TowerForge-{ce_id}-head", 3, status,
                physical_id=f"arn:aws:batch:us-east-1:123456789012:job-queue/q-{ce_id}",
            )
        )  # fmt: skip
        with app_ctx.db.transaction() as session:  # a name the driver cannot decode
            session.execute(
                text(f"UPDATE compute_env SET name = CAST(X'{blob}' AS TEXT) WHERE id = :i"),
                {"i": ce_id},
            )

    refused = http.delete(f"/compute-envs/{forged}")
    assert refused.status_code == 409, refused.text
    answer = refused.json()
    assert answer["field"] == "preserveResources", answer
    assert f"q-{forged}" in answer["message"] and "leave them in AWS" in answer["message"]
    assert http.get(f"/compute-envs/{forged}").json()["computeEnv"]["status"] != "DELETED"

    kept = http.delete(f"/compute-envs/{forged}", params={"preserveResources": "true"})
    assert kept.status_code == 204, kept.text
    assert http.delete(f"/compute-envs/{spent}").status_code == 204
    for ce_id in (forged, spent):
        assert http.get(f"/compute-envs/{ce_id}").json()["computeEnv"]["status"] == "DELETED"
