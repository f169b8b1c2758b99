"""Users, organizations, workspaces, members, teams and participants (Seqera's shapes).

Names follow Seqera's rule for organizations, workspaces and teams: letters, digits, and single
``-``/``_`` between them, 2 to 40 characters (:data:`NAME_PATTERN`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import Query
from pydantic import Field, StringConstraints

from batchforge.schemas.common import ApiModel, UserResponseDto

NAME_PATTERN = r"^[A-Za-z\d]+(?:[-_][A-Za-z\d]+)*$"
OrgRole = Literal["owner", "member", "collaborator"]
MemberRole = Literal["owner", "member"]
"""The roles an owner gives a member (a collaborator is made by adding a non-member as a
workspace participant, and stops being one when added as a member)."""
WspRole = Literal["owner", "admin", "maintain", "launch", "connect", "view"]
ParticipantType = Literal["MEMBER", "TEAM", "COLLABORATOR"]
Visibility = Literal["PRIVATE", "SHARED"]
"""Seqera's workspace visibility: SHARED workspaces' pipelines are visible to the
organization's members from their own workspaces (``services/authz.py``)."""

Name = Annotated[str, StringConstraints(min_length=2, max_length=40, pattern=NAME_PATTERN)]
NameQuery = Annotated[
    str,
    Query(min_length=2, max_length=40, pattern=NAME_PATTERN, description="a name to check"),
]


# --- users (batchforge's system administration; Seqera has sign-up instead) ---------------


class CreateUserRequest(ApiModel):
    userName: Name
    email: str | None = Field(default=None, max_length=255, pattern=r"^[^@\s]+@[^@\s]+$")


class CreateUserResponse(ApiModel):
    """The new user and its first API token, shown this once."""

    user: UserResponseDto
    token: str


class AdminUserDto(UserResponseDto):
    isAdmin: bool = False
    disabled: bool = False


class ListUsersResponse(ApiModel):
    users: list[AdminUserDto]
    totalSize: int


class UpdateUserStateRequest(ApiModel):
    disabled: bool


# --- organizations and members ---------------------------------------------------------


class Organization(ApiModel):
    name: Name
    fullName: str = Field(default="", max_length=100)


class CreateOrganizationRequest(ApiModel):
    organization: Organization


class UpdateOrganizationRequest(ApiModel):
    name: Name | None = None
    fullName: str | None = Field(default=None, max_length=100)


class OrganizationDbDto(ApiModel):
    orgId: int
    name: str
    fullName: str
    memberId: int | None = None
    memberRole: OrgRole | None = None


class OrganizationResponse(ApiModel):
    """``CreateOrganizationResponse`` and ``DescribeOrganizationResponse``."""

    organization: OrganizationDbDto


class ListOrganizationsResponse(ApiModel):
    organizations: list[OrganizationDbDto]
    totalSize: int


class MemberDbDto(ApiModel):
    memberId: int
    userId: int
    userName: str
    email: str
    role: OrgRole


class AddMemberRequest(ApiModel):
    user: str = Field(min_length=1, max_length=255, description="user name or e-mail")


class AddMemberResponse(ApiModel):
    member: MemberDbDto


class ListMembersResponse(ApiModel):
    members: list[MemberDbDto]
    totalSize: int


class UpdateMemberRoleRequest(ApiModel):
    role: MemberRole


# --- workspaces ----------------------------------------------------------------------------


class Workspace(ApiModel):
    id: int | None = None
    name: Name
    fullName: str = Field(default="", max_length=100)
    description: str | None = None
    visibility: Visibility = "PRIVATE"
    dateCreated: datetime | None = None
    lastUpdated: datetime | None = None


class CreateWorkspaceRequest(ApiModel):
    workspace: Workspace


class UpdateWorkspaceRequest(ApiModel):
    name: Name | None = None
    fullName: str | None = Field(default=None, max_length=100)
    visibility: Visibility | None = None


class WorkspaceResponse(ApiModel):
    """``CreateWorkspaceResponse`` and ``DescribeWorkspaceResponse``."""

    workspace: Workspace


class WorkspaceDbDto(ApiModel):
    id: int
    name: str
    fullName: str
    visibility: Visibility = "PRIVATE"


class ListWorkspacesResponse(ApiModel):
    workspaces: list[WorkspaceDbDto]


class OrgAndWorkspaceDto(ApiModel):
    orgId: int
    orgName: str
    workspaceId: int | None = None
    workspaceName: str | None = None
    workspaceFullName: str | None = None
    visibility: str | None = None
    roles: list[str] = []


class ListWorkspacesAndOrgResponse(ApiModel):
    orgsAndWorkspaces: list[OrgAndWorkspaceDto]


# --- teams ---------------------------------------------------------------------------------


class Team(ApiModel):
    name: Name
    description: str = Field(default="", max_length=250)


class CreateTeamRequest(ApiModel):
    team: Team


class UpdateTeamRequest(ApiModel):
    name: Name | None = None
    description: str | None = Field(default=None, max_length=250)


class TeamDbDto(ApiModel):
    teamId: int
    name: str
    description: str
    membersCount: int


class TeamResponse(ApiModel):
    """``CreateTeamResponse`` and ``DescribeTeamResponse``."""

    team: TeamDbDto


class ListTeamResponse(ApiModel):
    teams: list[TeamDbDto]
    totalSize: int


class CreateTeamMemberRequest(ApiModel):
    userNameOrEmail: str = Field(min_length=1, max_length=255)


# --- participants --------------------------------------------------------------------------


class ParticipantResponseDto(ApiModel):
    participantId: int
    type: ParticipantType
    wspRole: Name  # a predefined WspRole or a custom role of the organization (Seqera: string)
    memberId: int | None = None
    userName: str | None = None
    email: str | None = None
    orgRole: OrgRole | None = None
    teamId: int | None = None
    teamName: str | None = None


class AddParticipantRequest(ApiModel):
    """One of ``memberId``, ``teamId`` or ``userNameOrEmail`` (a member of the organization)."""

    memberId: int | None = None
    teamId: int | None = None
    userNameOrEmail: str | None = Field(default=None, min_length=1, max_length=255)


class AddParticipantResponse(ApiModel):
    participant: ParticipantResponseDto


class ListParticipantsResponse(ApiModel):
    participants: list[ParticipantResponseDto]
    totalSize: int


class UpdateParticipantRoleRequest(ApiModel):
    """A predefined role (any case) or the name of a custom role of the organization."""

    role: str = Field(min_length=1, max_length=40)
