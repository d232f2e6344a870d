"""Insert one row of a mapped class without the ORM's flush, or load one without the ORM's
loading, and get the object as if loaded.

A POST inserts a guest account, its comment and the moderation decision inside the writers' lock.
The ORM's unit of work spent ~0.3 ms on each new object (flush planning, attribute history,
post-fetch of the key); a prebuilt ``INSERT … RETURNING id`` with the column defaults filled in
here costs about half, run on the driver's cursor (:mod:`parley.db.direct`) less again. The
object is then put into the session as the stored row (``make_transient_to_detached``), so it takes
part in the session like a loaded one: the identity map finds it, and a later change to it is
flushed as an UPDATE.

Only for mapped classes whose defaults are plain Python values or callables (no server defaults,
no ``onupdate``, one integer primary key ``id``): :func:`add_as_stored` refuses others.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import cache
from typing import Any, TypeVar, cast

from sqlalchemy import Table, bindparam, insert, inspect
from sqlalchemy.orm import DeclarativeBase, Session, configure_mappers, make_transient_to_detached
from sqlalchemy.orm.util import identity_key
from sqlalchemy.sql.schema import ColumnDefault

from parley.db.direct import Direct

M = TypeVar("M", bound=DeclarativeBase)


@cache
def _plan(model: type[DeclarativeBase]) -> tuple[Direct, Direct, tuple[tuple[str, Any, bool], ...]]:
    """The prebuilt statements (``RETURNING id``, for a key the database assigns; plain, for a given
    one) and, for every column but ``id``: its key, its default, whether the default is a callable
    (SQLAlchemy wraps ``default=dict`` as a function of the context)."""
    table = cast(Table, model.__table__)
    if [c.name for c in table.primary_key.columns] != ["id"]:
        raise TypeError(f"{model.__name__}: add_as_stored needs a single primary key column 'id'")
    columns = []
    for column in table.columns:
        if column.server_default is not None or column.onupdate is not None:
            raise TypeError(f"{model.__name__}.{column.name}: server-side defaults are not filled in here")
        if column.name == "id":
            continue
        default = column.default
        if default is None:
            columns.append((column.key, None, False))
        elif isinstance(default, ColumnDefault) and (default.is_scalar or default.is_callable):
            columns.append((column.key, default.arg, default.is_callable))
        else:
            raise TypeError(f"{model.__name__}.{column.name}: unsupported default {default!r}")
    return Direct(insert(table).returning(table.c.id)), Direct(insert(table).inline()), tuple(columns)


@cache
def _keyless(model: type[DeclarativeBase]) -> Direct:
    """The plain INSERT of every column but ``id`` (the database assigns it)."""
    table = cast(Table, model.__table__)
    row = {c.key: bindparam(c.key, type_=c.type) for c in table.columns if c.name != "id"}
    return Direct(insert(table).values(row).inline())  # inline: no implicit RETURNING of the key


def _row(model: type[DeclarativeBase], values: Mapping[str, Any]) -> dict[str, Any]:
    """``values`` with every other column's default (``id`` only if given)."""
    _, _, columns = _plan(model)
    row: dict[str, Any] = {"id": values["id"]} if "id" in values else {}
    for key, default, is_callable in columns:
        if key in values:
            row[key] = values[key]
        elif is_callable:
            row[key] = cast(Callable[[Any], Any], default)(None)
        else:
            row[key] = default
    unknown = values.keys() - row.keys()
    if unknown:
        raise TypeError(f"{model.__name__} has no columns {sorted(unknown)}")
    return row


def add_as_stored(session: Session, model: type[M], values: Mapping[str, Any]) -> M:
    """Insert a ``model`` row with ``values`` (column keys; unnamed columns get their defaults) and
    return the object, in ``session``, as stored. Attribute names must equal column keys. ``id``
    may be given (a key drawn before the insert); otherwise the database assigns it. With a given
    ``id`` the INSERT is deferred (:meth:`~parley.db.direct.Direct.defer`): nothing is read back."""
    returning, given, _ = _plan(model)
    row = _row(model, values)
    if "id" in values:
        given.defer(session, row)
    else:
        row["id"] = returning.scalar(session, row)  # RETURNING id
    return _as_loaded(session, model, row)


def add_later(session: Session, model: type[DeclarativeBase], values: Mapping[str, Any]) -> None:
    """Insert a ``model`` row nobody reads back in this unit (no object, no ``id``: the database
    assigns it) as :func:`add_as_stored` fills it, deferred (:meth:`~parley.db.direct.Direct.defer`):
    on PostgreSQL it goes out with the unit's other deferred writes, in their one statement."""
    if "id" in values:
        raise TypeError("add_later: the database assigns the id")
    _keyless(model).defer(session, _row(model, values))


def load_as_stored(
    session: Session, model: type[M], statement: Direct, values: Mapping[str, Any]
) -> M | None:
    """The first row ``statement`` finds — a :class:`Direct` ``select`` of every column of
    ``model``'s table, in the table's order — as a ``model`` object in ``session``, as a query
    would load it (the session's own object if its identity map has that row), or None. Without
    the ORM's loading machinery: ~0.6 ms saved per object in the writers' lock (profiled)."""
    found = statement.first(session, values)
    return None if found is None else row_as_stored(session, model, found)


def row_as_stored(session: Session, model: type[M], found: Sequence[Any]) -> M:
    """A row of every column of ``model``'s table, in the table's order, read by the caller, as
    :func:`load_as_stored` makes it an object of ``session``."""
    keys = _keys(model)
    if len(found) != len(keys):
        raise TypeError(f"{model.__name__}: the statement must select every column of its table")
    row = dict(zip(keys, found, strict=True))
    loaded = session.identity_map.get(identity_key(model, row["id"]))
    if loaded is not None:
        return loaded
    return _as_loaded(session, model, row)


@cache
def _keys(model: type[DeclarativeBase]) -> tuple[str, ...]:
    return tuple(column.key for column in cast(Table, model.__table__).columns)


def _as_loaded(session: Session, model: type[M], row: dict[str, Any]) -> M:
    # As the ORM's own loader builds an object: a bare instance, the row's values put into its
    # dict. The mapped constructor would set each attribute through its instrumentation and
    # events (~95 µs for a comment, against ~16 µs so; a POST builds three inside the lock).
    mapper = inspect(model)
    if not mapper.configured:
        configure_mappers()  # as the constructor would on first use
    obj = cast(M, mapper.class_manager.new_instance())
    obj.__dict__.update(row)
    make_transient_to_detached(obj)  # the stored row, as if loaded: no history, its identity key
    session.add(obj)
    return obj
