"""Data-links use cases: the links of a workspace, discovered from its credentials or added
by hand, and their status.  Their content (browse, preview, download, upload, delete) is in
:mod:`batchforge.services.data_link_content`.

Invariants:
- no database transaction is open while AWS is called (read, call AWS, then write);
- a link is reached only through its workspace: another workspace's id is a 404;
- a discovered link's id is derived from (workspace, bucket): refreshes keep ids and the
  ``hidden`` flag stable, and two credentials seeing one bucket share one link.
"""

from __future__ import annotations

import hashlib
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import delete as sql_delete
from sqlalchemy import false, func, or_, select, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from batchforge.aws.s3 import CLIENTS
from batchforge.aws.session import AwsAuth, AwsClient
from batchforge.db import models
from batchforge.db.models import utcnow
from batchforge.errors import AwsAccessDenied, AwsError, Conflict, InvalidInput, NotFound
from batchforge.explorer import discovery
from batchforge.explorer.paths import S3Location, parse_resource_ref
from batchforge.explorer.permissions import EXTRAS, explain
from batchforge.schemas import data_links as schemas
from batchforge.services import broken_rows
from batchforge.services import credentials as credentials_service
from batchforge.services.context import AppContext
from batchforge.services.ids import new_id

REGION_PATTERN = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
DISCOVERY_WORKERS = 4
LIST_MAX = 1000
Source = Literal["discovered", "custom"]


def discovered_id(workspace_id: int, bucket: str) -> str:
    digest = hashlib.sha256(f"{workspace_id}:s3://{bucket}".encode()).hexdigest()
    return "v1-cloud-" + digest[:24]


# --- reading --------------------------------------------------------------------------------


def load_row(session: Session, workspace_id: int, link_id: str) -> models.DataLink:
    row = session.get(models.DataLink, link_id)
    if row is None or row.workspace_id != workspace_id:
        raise NotFound(f"Data link '{link_id}' not found in this workspace.")
    return row


def credentials_of(session: Session, link_ids: list[str]) -> dict[str, list[tuple[str, str]]]:
    """(id, name) of the credentials of each link, sorted by name."""
    assoc, creds = models.DataLinkCredentials, models.Credentials
    rows = session.execute(
        select(assoc.data_link_id, creds.id, creds.name)
        .join(creds, creds.id == assoc.credentials_id)
        .where(assoc.data_link_id.in_(link_ids))
        .order_by(creds.name)
    ).all()
    found: dict[str, list[tuple[str, str]]] = {link_id: [] for link_id in link_ids}
    for link_id, cid, name in rows:
        found[link_id].append((cid, name))
    return found


def _extras(row: models.DataLink) -> list[schemas.DataLinkExtra]:
    known = row.extras or {}
    return [
        schemas.DataLinkExtra(
            action=action,
            purpose=purpose,
            status=known.get(action, {}).get("status", "unknown"),
            hint=known.get(action, {}).get("hint"),
        )
        for action, purpose in sorted(EXTRAS.items())
    ]


def _to_dto(row: models.DataLink, creds: list[tuple[str, str]]) -> schemas.DataLinkDto:
    status, message = row.status, row.message
    if not creds:
        status = "INVALID"
        message = "Its credentials were deleted: give the link other credentials (credentialsId)."
    return schemas.DataLinkDto(
        id=row.id,
        name=row.name,
        description=row.description,
        resourceRef=S3Location(row.bucket, row.prefix).ref,
        region=row.region,
        credentials=[schemas.DataLinkCredentials(id=cid, name=name) for cid, name in creds],
        status=status,  # type: ignore[arg-type]
        message=message,
        hidden=row.hidden,
        creationSource=row.source,  # type: ignore[arg-type]
        extras=_extras(row),
    )


def _broken(link_id: str, reason: str) -> schemas.DataLinkDto:
    """How a link whose row cannot be read is shown (see :mod:`broken_rows`)."""
    return schemas.DataLinkDto(
        id=link_id,
        name=broken_rows.BROKEN_NAME,
        resourceRef="",
        status="INVALID",
        message=broken_rows.message(
            "data link",
            link_id,
            reason,
            f"batchforge data-links delete -i {link_id}",
            f"DELETE /data-links/{link_id}",
        ),
        creationSource="custom",
    )


def _query_one(workspace_id: int, link_id: str) -> Any:
    link = models.DataLink
    return select(link).where(link.id == link_id, link.workspace_id == workspace_id)


def describe(ctx: AppContext, workspace_id: int, link_id: str) -> schemas.DataLinkDto:
    """The link; one whose row cannot be read or served is described as broken."""
    row = broken_rows.load(ctx, _query_one(workspace_id, link_id), models.DataLink.id)
    if row is None:
        raise NotFound(f"Data link '{link_id}' not found in this workspace.")
    return _dtos(ctx, [row])[0]


def _dtos(ctx: AppContext, found: list[Any]) -> list[schemas.DataLinkDto]:
    ids = [row.id for row in found]
    with ctx.db.transaction() as session:
        creds = credentials_of(session, ids)
    return broken_rows.each(found, lambda row: _to_dto(row, creds[row.id]), _broken, "data link")


def _search_filters(search: str | None) -> list[Any]:
    """Seqera's free-text search: ``region:X``, ``provider:X`` and words of the name."""
    filters: list[Any] = []
    for word in (search or "").split():
        key, sep, value = word.partition(":")
        if sep and key.lower() == "region":
            filters.append(models.DataLink.region == value)
        elif sep and key.lower() == "provider":
            filters.append(true() if value.lower() in ("aws", "s3") else false())
        else:
            escaped = word.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            filters.append(func.lower(models.DataLink.name).like(f"%{escaped}%", escape="\\"))
    return filters


def list_links(
    ctx: AppContext,
    workspace_id: int,
    *,
    credentials_id: str | None = None,
    search: str | None = None,
    visibility: str | None = None,
    max_results: int | None = None,
    offset: int | None = None,
) -> schemas.DataLinksListResponse:
    """The workspace's links; credentials never listed before are discovered first."""
    if visibility not in (None, "visible", "hidden", "all"):
        raise InvalidInput("visibility must be visible, hidden or all.", field="visibility")
    if (max_results is not None and not 1 <= max_results <= LIST_MAX) or (offset or 0) < 0:
        raise InvalidInput(f"max must be 1-{LIST_MAX} and offset 0 or more.", field="max")
    ensure_discovered(ctx, workspace_id, credentials_id)
    link = models.DataLink
    assoc = models.DataLinkCredentials
    has_credentials = select(assoc.data_link_id).where(assoc.data_link_id == link.id).exists()
    query = select(link).where(
        link.workspace_id == workspace_id, or_(link.source == "custom", has_credentials)
    )
    if credentials_id:
        query = query.where(
            link.id.in_(select(assoc.data_link_id).where(assoc.credentials_id == credentials_id))
        )
    if visibility in (None, "visible"):
        query = query.where(link.hidden.is_(False))
    elif visibility == "hidden":
        query = query.where(link.hidden.is_(True))
    for condition in _search_filters(search):
        query = query.where(condition)
    with ctx.db.transaction() as session:
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = query.order_by(link.name, link.id).offset(offset or 0).limit(max_results or LIST_MAX)
    items = _dtos(ctx, broken_rows.rows(ctx, page, link.id))
    return schemas.DataLinksListResponse(dataLinks=items, totalSize=total)


# --- discovery ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Discovery:
    credentials_id: str
    status: Literal["OK", "DENIED", "FAILED"]
    buckets: list[discovery.Bucket]
    message: str | None = None


def auth_for(ctx: AppContext, workspace_id: int, credentials_id: str) -> AwsAuth:
    return credentials_service.stored_keys(ctx, workspace_id, credentials_id).auth()


def s3_client(ctx: AppContext, auth: AwsAuth, region: str | None = None) -> AwsClient:
    return CLIENTS.client(ctx.aws, auth, region or ctx.settings.default_region)


def _discover(ctx: AppContext, workspace_id: int, credentials_id: str) -> Discovery | None:
    """List the credentials' buckets (AWS only); None after a transient failure."""
    auth = auth_for(ctx, workspace_id, credentials_id)
    try:
        buckets = discovery.list_buckets(s3_client(ctx, auth))
    except AwsAccessDenied as error:
        return Discovery(credentials_id, "DENIED", [], str(error))
    except AwsError as error:
        return None if error.transient else Discovery(credentials_id, "FAILED", [], str(error))
    regional = discovery.with_regions(
        lambda region: s3_client(ctx, auth, region), buckets, ctx.settings.default_region
    )
    return Discovery(credentials_id, "OK", regional)


def _apply_discovery(session: Session, workspace_id: int, found: Discovery) -> None:
    """Make the discovered links of ``found.credentials_id`` match its bucket list."""
    link, assoc = models.DataLink, models.DataLinkCredentials
    wanted = {discovered_id(workspace_id, bucket.name): bucket for bucket in found.buckets}
    existing = {
        row.id: row for row in session.scalars(select(link).where(link.id.in_(list(wanted)))).all()
    }
    attached = set(
        session.scalars(
            select(assoc.data_link_id)
            .join(link, link.id == assoc.data_link_id)
            .where(assoc.credentials_id == found.credentials_id, link.source == "discovered")
        ).all()
    )
    now = utcnow()
    for link_id, bucket in wanted.items():
        row = existing.get(link_id)
        if row is None:
            row = link(
                id=link_id,
                workspace_id=workspace_id,
                source="discovered",
                name=bucket.name,
                bucket=bucket.name,
                prefix="",
                region=bucket.region,
                hidden=False,
                status="VALID",
                extras={},
                created_at=now,
                updated_at=now,
            )
            session.add(row)
        elif bucket.region and row.region != bucket.region:
            row.region, row.updated_at = bucket.region, now
        if link_id not in attached:
            session.add(assoc(data_link_id=link_id, credentials_id=found.credentials_id))
    session.flush()
    for link_id in attached - set(wanted):
        session.delete(session.get(assoc, (link_id, found.credentials_id)))
        session.flush()
        if session.scalar(select(func.count()).where(assoc.data_link_id == link_id)) == 0:
            session.delete(session.get(link, link_id))
    session.merge(
        models.DataLinkDiscovery(
            credentials_id=found.credentials_id,
            workspace_id=workspace_id,
            refreshed_at=now,
            status=found.status,
            message=found.message,
            buckets=len(found.buckets),
        )
    )


def _store_discovery(ctx: AppContext, workspace_id: int, found: Discovery) -> None:
    """Write a discovery; a concurrent writer (another replica) is retried once."""
    for attempt in range(2):
        try:
            with ctx.db.transaction() as session:
                if found.status == "OK":
                    _apply_discovery(session, workspace_id, found)
                else:  # keep the links found before: a denial may be temporary
                    session.merge(
                        models.DataLinkDiscovery(
                            credentials_id=found.credentials_id,
                            workspace_id=workspace_id,
                            refreshed_at=utcnow(),
                            status=found.status,
                            message=found.message,
                            buckets=0,
                        )
                    )
            return
        except IntegrityError:
            if attempt:
                raise


def _workspace_credentials(ctx: AppContext, workspace_id: int) -> list[str]:
    with ctx.db.transaction() as session:
        return list(
            session.scalars(
                select(models.Credentials.id).where(
                    models.Credentials.workspace_id == workspace_id,
                    models.Credentials.provider == "aws",
                )
            ).all()
        )


def _check_credentials(ctx: AppContext, workspace_id: int, credentials_id: str) -> None:
    with ctx.db.transaction() as session:
        row = session.get(models.Credentials, credentials_id)
        if row is None or row.workspace_id != workspace_id:
            raise NotFound(
                f"Credentials '{credentials_id}' not found in this workspace.",
                field="credentialsId",
            )


def refresh(
    ctx: AppContext, workspace_id: int, credentials_id: str | None = None
) -> schemas.DataLinkCacheRefreshResponse:
    """List the buckets of one credentials (or of all the workspace's) again, now."""
    if credentials_id:
        _check_credentials(ctx, workspace_id, credentials_id)
        targets = [credentials_id]
    else:
        targets = _workspace_credentials(ctx, workspace_id)
    return schemas.DataLinkCacheRefreshResponse(refreshed=_discover_all(ctx, workspace_id, targets))


def ensure_discovered(ctx: AppContext, workspace_id: int, credentials_id: str | None) -> None:
    """Discover the buckets of credentials never listed before (the first list fills the
    cache; later ones read it until ``/data-links/cache/refresh``)."""
    if credentials_id:
        _check_credentials(ctx, workspace_id, credentials_id)
    candidates = [credentials_id] if credentials_id else _workspace_credentials(ctx, workspace_id)
    with ctx.db.transaction() as session:
        done = set(
            session.scalars(
                select(models.DataLinkDiscovery.credentials_id).where(
                    models.DataLinkDiscovery.credentials_id.in_(candidates)
                )
            ).all()
        )
    missing = [cid for cid in candidates if cid not in done]
    if missing:
        _discover_all(ctx, workspace_id, missing)


def _discover_all(
    ctx: AppContext, workspace_id: int, credentials_ids: list[str]
) -> list[schemas.DataLinkDiscoveryResult]:
    if not credentials_ids:
        return []
    workers = min(DISCOVERY_WORKERS, len(credentials_ids))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        found = list(pool.map(lambda cid: _discover(ctx, workspace_id, cid), credentials_ids))
    results = []
    for cid, item in zip(credentials_ids, found, strict=True):
        if item is None:
            results.append(
                schemas.DataLinkDiscoveryResult(
                    credentialsId=cid, status="FAILED", message="AWS did not answer; try again."
                )
            )
            continue
        _store_discovery(ctx, workspace_id, item)
        results.append(
            schemas.DataLinkDiscoveryResult(
                credentialsId=cid,
                status=item.status,
                buckets=len(item.buckets),
                message=item.message,
            )
        )
    return results


# --- custom links ---------------------------------------------------------------------------


def _check_name(name: str) -> str:
    name = name.strip()
    if not name or _CONTROL.search(name):
        raise InvalidInput(
            "name must be 1-255 characters without control characters.", field="name"
        )
    return name


def _check_region(region: str | None) -> str | None:
    if region and not REGION_PATTERN.match(region):
        raise InvalidInput(f"region '{region}' is not an AWS region name.", field="region")
    return region or None


@dataclass(frozen=True)
class Probe:
    region: str | None
    status: Literal["VALID", "INVALID"]
    message: str | None


def probe(ctx: AppContext, auth: AwsAuth, location: S3Location, region: str | None) -> Probe:
    """Find the bucket's region (unless given) and list one key under the prefix: VALID, or
    INVALID with AWS's reason.  A transient failure is raised (nothing is stored)."""
    try:
        if region is None:
            region = discovery.bucket_region(s3_client(ctx, auth), location.bucket)
        s3_client(ctx, auth, region).list_objects_v2(
            Bucket=location.bucket, Prefix=location.prefix, MaxKeys=1
        )
    except AwsError as error:
        if error.transient:
            raise
        return Probe(region, "INVALID", str(explain(error, location.bucket)))
    return Probe(region, "VALID", None)


def create(
    ctx: AppContext, workspace_id: int, body: schemas.DataLinkCreateRequest
) -> schemas.DataLinkDto:
    """A custom link to a bucket or prefix, checked against AWS (stored INVALID with the
    reason when AWS refuses)."""
    if body.provider not in ("aws", "s3"):
        raise InvalidInput(
            f"provider '{body.provider}' is not supported; use 'aws'.", field="provider"
        )
    name = _check_name(body.name)
    location = parse_resource_ref(body.resourceRef)
    region = _check_region(body.region)
    if not body.credentialsId:
        raise InvalidInput("credentialsId is required.", field="credentialsId")
    _check_credentials(ctx, workspace_id, body.credentialsId)
    _ensure_name_free(ctx, workspace_id, name, None)
    checked = probe(ctx, auth_for(ctx, workspace_id, body.credentialsId), location, region)
    now = utcnow()
    link_id = "v1-user-" + new_id(16)
    row = models.DataLink(
        id=link_id,
        workspace_id=workspace_id,
        source="custom",
        name=name,
        custom_name=name,
        description=body.description,
        bucket=location.bucket,
        prefix=location.prefix,
        region=checked.region,
        hidden=body.hidden,
        status=checked.status,
        message=checked.message,
        extras={},
        created_at=now,
        updated_at=now,
    )
    try:
        with ctx.db.transaction() as session:
            session.add(row)
            session.flush()
            session.add(
                models.DataLinkCredentials(data_link_id=link_id, credentials_id=body.credentialsId)
            )
    except IntegrityError:
        raise _name_taken(name) from None
    return describe(ctx, workspace_id, link_id)


def _name_taken(name: str) -> Conflict:
    return Conflict(f"A data link named '{name}' already exists in this workspace.", field="name")


def _ensure_name_free(ctx: AppContext, workspace_id: int, name: str, except_id: str | None) -> None:
    with ctx.db.transaction() as session:
        found = session.scalars(
            select(models.DataLink.id).where(
                models.DataLink.workspace_id == workspace_id, models.DataLink.custom_name == name
            )
        ).first()
    if found is not None and found != except_id:
        raise _name_taken(name)


def update(
    ctx: AppContext, workspace_id: int, link_id: str, body: schemas.DataLinkUpdateRequest
) -> schemas.DataLinkDto:
    """Rename, describe, change credentials (checked again) or hide/show a link.  Discovered
    links can only be hidden or shown."""
    current = describe(ctx, workspace_id, link_id)
    changes_custom = body.name is not None or body.description is not None or body.credentialsId
    if current.creationSource == "discovered" and changes_custom:
        raise InvalidInput(
            "A discovered data link (a bucket listed from credentials) can only be hidden or "
            "shown; add a custom data link to name or describe it.",
            field="name",
        )
    name = _check_name(body.name) if body.name is not None else current.name
    if name != current.name:
        _ensure_name_free(ctx, workspace_id, name, link_id)
    checked: Probe | None = None
    if body.credentialsId and body.credentialsId not in [c.id for c in current.credentials]:
        _check_credentials(ctx, workspace_id, body.credentialsId)
        location = parse_resource_ref(current.resourceRef)
        auth = auth_for(ctx, workspace_id, body.credentialsId)
        checked = probe(ctx, auth, location, current.region)
    try:
        with ctx.db.transaction() as session:
            row = load_row(session, workspace_id, link_id)
            _apply_update(session, row, body, name, checked)
    except IntegrityError:
        raise _name_taken(name) from None
    return describe(ctx, workspace_id, link_id)


def _apply_update(
    session: Session,
    row: models.DataLink,
    body: schemas.DataLinkUpdateRequest,
    name: str,
    checked: Probe | None,
) -> None:
    if row.source == "custom":
        row.name = row.custom_name = name
    if body.description is not None:
        row.description = body.description
    if body.hidden is not None:
        row.hidden = body.hidden
    if checked is not None and body.credentialsId:
        for old in session.scalars(
            select(models.DataLinkCredentials).where(
                models.DataLinkCredentials.data_link_id == row.id
            )
        ).all():
            session.delete(old)
        session.flush()
        session.add(
            models.DataLinkCredentials(data_link_id=row.id, credentials_id=body.credentialsId)
        )
        row.region, row.status, row.message = checked.region, checked.status, checked.message
        row.extras = {}
    row.updated_at = utcnow()


def delete(ctx: AppContext, workspace_id: int, link_id: str) -> None:
    """Delete a custom link (never its content).  Discovered links are hidden instead.
    A link whose row cannot be read is deleted by columns, whatever its source (a
    discovered bucket comes back, readable, at the next refresh)."""
    query = _query_one(workspace_id, link_id)
    if isinstance(broken_rows.load(ctx, query, models.DataLink.id), broken_rows.BrokenRow):
        with ctx.db.transaction() as session:
            session.execute(sql_delete(models.DataLink).where(models.DataLink.id == link_id))
        return
    with ctx.db.transaction() as session:
        row = load_row(session, workspace_id, link_id)
        if row.source != "custom":
            raise InvalidInput(
                f"'{row.name}' is a bucket discovered from credentials and comes back at the next "
                "refresh: hide it instead (hidden: true).",
                field="dataLinkId",
            )
        session.delete(row)


# --- state learned from use -----------------------------------------------------------------


def record_status(ctx: AppContext, link_id: str, status: str, message: str | None) -> None:
    """Store what using the link showed (VALID again, or INVALID with AWS's reason); written
    only when it changes."""
    with ctx.db.transaction() as session:
        row = session.get(models.DataLink, link_id)
        if row is not None and (row.status, row.message) != (status, message):
            row.status, row.message, row.updated_at = status, message, utcnow()


def record_region(ctx: AppContext, link_id: str, region: str) -> None:
    """Store a bucket region found when the link was used."""
    with ctx.db.transaction() as session:
        row = session.get(models.DataLink, link_id)
        if row is not None and row.region != region:
            row.region, row.updated_at = region, utcnow()


def record_extra(ctx: AppContext, link_id: str, action: str, hint: str | None) -> None:
    """Remember whether an optional action was granted (``hint`` None) or denied."""
    status = "denied" if hint else "granted"
    with ctx.db.transaction() as session:
        row = session.get(models.DataLink, link_id)
        if row is None or (row.extras or {}).get(action, {}).get("status") == status:
            return
        extras = dict(row.extras or {})
        extras[action] = {"status": status, "at": utcnow().isoformat(), "hint": hint}
        row.extras = extras
