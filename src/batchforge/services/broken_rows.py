"""One unreadable row never breaks a list or a page: the rule, for every list.

A stored row can be unreadable for reasons no check at write time can rule out for every row
ever stored: text the database cannot decode (bytes that are not UTF-8, stored by an older
version or damaged), a JSON column that does not parse, a JSON string holding a lone
surrogate (it loads, but no UTF-8 encoder takes it), a status or role this version does not
know, a column that fails validation into the response schema.

The readers here decide it in one place:

- :func:`rows` runs a list query at once and, only when that fails, again row by row, so that
  an unreadable row becomes a :class:`BrokenRow` (what is known of it: its key columns) and the
  others load as usual;
- :func:`load` reads one row by primary key the same way (``GET`` by id);
- :func:`shown` builds a row's response object and checks it can be served as JSON, else
  builds the broken entry instead.

Each service turns a :class:`BrokenRow` into its own response shape, named
:data:`BROKEN_NAME`, with :func:`message` (why, and how to delete it) where the shape has a
text field for it.  Deleting such a row works by id through column-only statements.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy import Select
from sqlalchemy.orm import InstrumentedAttribute

from batchforge.errors import Conflict
from batchforge.services.context import AppContext

log = logging.getLogger("batchforge.rows")
Shown = TypeVar("Shown", bound=BaseModel)
Row = TypeVar("Row")

# The name an entry is shown with when its stored row cannot be read.
BROKEN_NAME = "(unreadable)"


@dataclass
class BrokenRow:
    """What is known of a row that could not be loaded: its primary key, the other key
    columns the caller asked for (``keys``, in order), and why it could not be read."""

    id: Any
    reason: str
    keys: tuple[Any, ...] = field(default_factory=tuple)


def reason_of(error: BaseException) -> str:
    """A short, safe description of why a row could not be read (no stored data in it)."""
    text = str(error)
    if isinstance(error, UnicodeError) or "surrogates not allowed" in text:
        return "text that is not valid Unicode"
    if "Could not decode to UTF-8" in text:
        return "text that is not valid UTF-8"
    if isinstance(error, ValueError) and type(error).__name__ == "JSONDecodeError":
        return "a JSON value that does not parse"
    if type(error).__name__ == "ValidationError":
        return "a value this version does not accept"
    return type(error).__name__


def message(what: str, row_id: Any, reason: str, cli: str, api: str) -> str:
    """What a broken entry says: ``what`` could not be read (``reason``), and how to delete
    it with the CLI command ``cli`` (none if empty) or the API call ``api``."""
    how = f"{cli} (or {api})" if cli else api
    return (
        f"batchforge could not read this {what}'s stored data ({reason}); it is shown as "
        f"broken.  Delete it with: {how}."
    )


def rows(
    ctx: AppContext,
    query: Select[Any],
    key: InstrumentedAttribute[Any],
    *keys: InstrumentedAttribute[Any],
    scalars: bool = True,
) -> list[Any]:
    """The rows ``query`` selects, in order.  If they cannot all be loaded, each is read
    alone (by ``key``, the primary key of the first entity selected) and one that cannot
    be is a :class:`BrokenRow` carrying ``key`` and ``keys``' values.  ``scalars`` means
    the query selects one entity (else each row is a tuple, as ``session.execute`` gives)."""
    try:
        with ctx.db.transaction() as session:
            found = session.scalars(query) if scalars else session.execute(query)
            return list(found.all())
    except Exception as error:  # one unreadable row: read them one by one
        log.warning("a list could not be loaded at once (%s)", type(error).__name__)
    with ctx.db.transaction() as session:
        listed = list(session.execute(query.with_only_columns(key, *keys)).all())
    alone = query.limit(None).offset(None).order_by(None)
    result: list[Any] = []
    for values in listed:
        one = _one(ctx, alone.where(key == values[0]), scalars)
        if isinstance(one, BaseException):
            result.append(BrokenRow(values[0], reason_of(one), tuple(values[1:])))
        elif one is not None:
            result.append(one)
    return result


def _one(ctx: AppContext, query: Select[Any], scalars: bool) -> Any:
    try:
        with ctx.db.transaction() as session:
            found = session.scalars(query) if scalars else session.execute(query)
            return found.first()
    except Exception as error:
        return error


def load(
    ctx: AppContext,
    query: Select[Any],
    key: InstrumentedAttribute[Any],
    *keys: InstrumentedAttribute[Any],
) -> Any:
    """The first row ``query`` selects (one entity), ``None`` if there is none, or a
    :class:`BrokenRow` if it exists but cannot be loaded."""
    one = _one(ctx, query, scalars=True)
    if not isinstance(one, BaseException):
        return one
    with ctx.db.transaction() as session:
        values = session.execute(query.with_only_columns(key, *keys)).first()
    if values is None:
        return None
    return BrokenRow(values[0], reason_of(one), tuple(values[1:]))


def named(text: str) -> str:
    """The name of a broken entry whose shape has no other text field: :data:`BROKEN_NAME`
    followed by its message (``text``)."""
    return f"{BROKEN_NAME} {text}"


class UnreadableRow(Conflict):
    """An action on a row that cannot be read (other than showing or deleting it): a 409
    whose message says how to delete it."""

    code = "unreadable-row"


def readable(
    ctx: AppContext, query: Select[Any], key: InstrumentedAttribute[Any], what: str, how: str
) -> Any:
    """The row ``query`` selects (``None`` if none); one that cannot be read is refused with
    :class:`UnreadableRow`, ``how`` being ``(cli, api)`` deletion hints joined by ``|``."""
    row = load(ctx, query, key)
    if isinstance(row, BrokenRow):
        cli, _, api = how.partition("|")
        raise UnreadableRow(message(what, row.id, row.reason, cli, api))
    return row


def shown(
    row_id: Any,
    build: Callable[[], Shown],
    broken: Callable[[str], Shown],
    what: str = "row",
) -> Shown:
    """``build()`` if what it makes can be served as JSON, else ``broken(reason)``."""
    try:
        made = build()
        made.model_dump_json()
        return made
    except Exception as error:  # the row is unreadable, not the request
        reason = reason_of(error)
        log.warning("%s %s could not be read (%s)", what, row_id, reason)
        return broken(reason)


def each(
    found: Sequence[Any],
    build: Callable[[Any], Shown],
    broken: Callable[[Any, str], Shown],
    what: str = "row",
) -> list[Shown]:
    """The response objects of rows read by :func:`rows`: ``build(row)`` for a row that
    loaded (checked by :func:`shown`), ``broken(row_id, reason)`` for one that did not."""
    made: list[Shown] = []
    for row in found:
        if isinstance(row, BrokenRow):
            log.warning("%s %s could not be read (%s)", what, row.id, row.reason)
            made.append(broken(row.id, row.reason))
            continue
        row_id = _id_of(row)
        made.append(
            shown(
                row_id,
                lambda row=row: build(row),
                lambda reason, row_id=row_id: broken(row_id, reason),
                what,
            )
        )
    return made


def _id_of(row: Any) -> Any:
    first = row[0] if isinstance(row, tuple) or hasattr(row, "_fields") else row
    return getattr(first, "id", None)
