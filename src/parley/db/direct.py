"""Core statements run on the driver's cursor, in the session's transaction.

A POST runs about a dozen statements inside the writers' lock. Each cost SQLAlchemy's execution
path — execution context, compiled-cache look-up, parameter processing, result wrapping: ~55–65 µs
against ~3 µs for the driver's ``execute`` (micro-benchmark). A :class:`Direct` statement is
compiled once per dialect (and set of parameter names) into its SQL text and, for every
parameter, its position, its literal value if it has one and the dialect's type conversion; a run
converts the values, executes the text on the DBAPI cursor of the session's connection and converts
the returned columns with the dialect's result conversions. The SQL, the conversions and the
transaction are SQLAlchemy's; only the per-call machinery is left out.

What stays the same as ``session.execute``: the session is flushed first (autoflush), driver
errors are raised as SQLAlchemy's (``IntegrityError`` …, parameters hidden), and the engine's
``before_cursor_execute`` / ``after_cursor_execute`` listeners see every statement (with no
execution context: ``None``) — so the write unit's change mark (``parley.db.database``) and the
tests' statement spies work as before. ``after_cursor_execute`` comes once the rows are fetched:
SQLite counts a ``RETURNING`` statement's rows only as they are read. Not supported: expanding
parameters (``IN`` lists: build one statement per list length), listeners that rewrite statements.
A lost PostgreSQL connection is not marked invalid here as SQLAlchemy's path would mark it; the
pool's check on the next checkout (:mod:`parley.db.checkout`) replaces it.

Reads along (:meth:`Direct.first_with`): a read and others that need none of its answers as one
statement on PostgreSQL, each other read's rows as one array per column (decision 0012); on SQLite
one after another.

Transactions begun late (:func:`begin_at_first_write`, PostgreSQL): the connections run in
psycopg's autocommit mode and a unit's ``BEGIN`` goes out before its first statement that needs the
transaction (:func:`needs_transaction`: a write, a locking or streamed read, a savepoint, a batch of
deferred writes sent before the commit); plain reads before it, and a unit's single write
statement, run without one (decision 0013).

Deferred writes (:meth:`Direct.defer`, PostgreSQL only, once :func:`defer_writes` is installed on
the engine): a write whose result nobody reads waits on the connection and goes out with the writes
deferred after it as **one** statement — each a data-modifying ``WITH`` part of the next. A POST
wrote its session, comment, thread counters, decision and copy index in seven statements, each a
round trip with ~80 µs of client and server CPU (a probe, decision 0011); merged they are one.
The batch goes out before anything that may depend on it: any statement SQLAlchemy runs (queries,
the ORM's flush), a :class:`Direct` write that runs now, a :class:`Direct` read of a table the batch
writes (or of tables it does not know: ``text()`` without ``tables``), a savepoint, its release and
the commit; a rollback drops it. Two parts of one statement see the same snapshot and must not
touch the same row, so a second write to a table already in the batch sends the batch first unless
both are plain INSERTs (new rows). Foreign keys are checked at the end of the merged statement, so
a part may reference a row another part inserts. Listeners see every part as its own statement
(its own SQL and parameters; row count unknown, -1). A deferred write's error (``IntegrityError``
…) is raised where the batch goes out, not where it was deferred: defer only writes no caller
handles an error of.

:func:`savepoints_on_the_driver` does the same for the savepoints SQLAlchemy opens, releases and
rolls back (every batched SQLite write unit has one, and every ``session.begin_nested()``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, NamedTuple, cast

from sqlalchemy import event, func, select, true, type_coerce
from sqlalchemy.engine import Connection, Dialect, Engine
from sqlalchemy.engine.processors import to_float
from sqlalchemy.exc import DBAPIError, InvalidRequestError, StatementError
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.sql import ClauseElement, visitors
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.dml import Delete, Insert, Update
from sqlalchemy.sql.expression import CompoundSelect, Select, TableClause
from sqlalchemy.types import NullType, Numeric

Processor = Callable[[Any], Any] | None
_HELD = "parley.direct.connection"
_PENDING = "parley.direct.pending"  # in Connection.info: the DBAPI connection's deferred writes
_DEFERS = "_parley_defers_writes"  # set on a dialect by defer_writes
_BEGINS_LATE = "_parley_begins_late"  # set on a dialect by begin_at_first_write
_IDLE: Any = None  # psycopg's TransactionStatus.IDLE, once begin_at_first_write has imported it
_LOCKING = re.compile(r"\bFOR\s+(?:NO\s+KEY\s+UPDATE|UPDATE|KEY\s+SHARE|SHARE)\b", re.IGNORECASE)
_PYFORMAT = re.compile(r"%%|%\(([^)]+)\)s")
_SAVEPOINT_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_SAVEPOINT_SQL = {
    "do_savepoint": "SAVEPOINT {}",
    "do_release_savepoint": "RELEASE SAVEPOINT {}",
    "do_rollback_to_savepoint": "ROLLBACK TO SAVEPOINT {}",
}


def _connection(session: Session) -> tuple[Connection, Any]:
    """The session's connection and its DBAPI connection, kept for the session's innermost
    transaction (asking the session each time cost ~50 µs a statement, profiled). Inside
    ``session.begin_nested()`` that is the nested one: asking the session for its connection there
    opens the savepoint, which the statement must run in."""
    transaction = _innermost(session)
    held = session.info.get(_HELD)
    if held is not None and transaction is not None and held[0] is transaction:
        return held[1], held[2]
    connection = session.connection()  # begins the transaction (or opens the savepoint) if not yet
    driver = connection.connection.driver_connection
    session.info[_HELD] = (_innermost(session), connection, driver)
    return connection, driver


def _innermost(session: Session) -> SessionTransaction | None:
    return session.get_nested_transaction() or session.get_transaction()


def _result_processor(type_: Any, dialect: Dialect) -> Processor:
    """The dialect's conversion of a returned column of ``type_``, as SQLAlchemy's execution finds it
    — which passes the driver's type code of the column; a plan has seen none. psycopg's numeric
    types need it (SQLAlchemy raises without one): psycopg returns ``float8`` as ``float`` and
    ``numeric`` as ``Decimal``, so a numeric type that is not to give decimals converts to float."""
    impl = type_.dialect_impl(dialect)
    try:
        return cast(Processor, impl.result_processor(dialect, None))
    except (InvalidRequestError, TypeError):
        converts: Processor = to_float if isinstance(impl, Numeric) and not impl.asdecimal else None
        return converts


def _as_sqlalchemys(
    error: Exception, sql: str, dbapi_error: type[Exception], dialect: Dialect
) -> StatementError:
    """A driver error as SQLAlchemy's execution path raises it (``IntegrityError`` …), parameters hidden."""
    return DBAPIError.instance(sql, None, error, dbapi_error, hide_parameters=True, dialect=dialect)


@dataclass(frozen=True, slots=True)
class _Plan:
    sql: str
    positional: bool
    # per parameter in the statement: its name, whether the caller gives it, its literal value
    # otherwise, and the dialect's conversion
    params: tuple[tuple[str, bool, Any, Processor], ...]
    results: tuple[Processor, ...]  # per returned column; () when none needs converting
    dbapi_error: type[Exception]
    transactional: bool  # must run in the unit's transaction (begin_at_first_write): a write, a lock
    # psycopg: the SQL with PostgreSQL's own placeholders ($1 …, one per parameter) as the text
    # between them and each one's parameter index, and the cursor class that sends it unparsed
    pieces: tuple[str, ...] = ()
    slots: tuple[int, ...] = ()
    cursor: Callable[[Any], Any] | None = None


class Direct:
    """One Core statement (``select``, ``insert``, ``update``, ``delete``, with ``RETURNING``)
    for :func:`run` and friends. Build it once, at import time, like a prebuilt statement.

    ``tables``: the tables a ``text()`` statement reads, if any (for deferred writes: a read of
    none of theirs need not wait for them); Core statements name theirs themselves."""

    __slots__ = ("_plans", "statement", "tables", "target")

    def __init__(self, statement: ClauseElement, *, tables: tuple[str, ...] | None = None) -> None:
        self.statement = statement
        self._plans: dict[tuple[Dialect, tuple[str, ...]], _Plan] = {}
        found = frozenset(e.name for e in visitors.iterate(statement) if isinstance(e, TableClause))
        # every table it reads or writes; None: not known (a text() without ``tables``)
        self.tables: frozenset[str] | None = found or (frozenset(tables) if tables is not None else None)
        # a write's table and verb (which may be deferred), or None for a read
        self.target: tuple[str, str] | None = None
        if isinstance(statement, Insert | Update | Delete):
            verb = "insert" if isinstance(statement, Insert) else "write"
            self.target = (cast(TableClause, statement.table).name, verb)

    def _plan(self, dialect: Dialect, keys: tuple[str, ...]) -> _Plan:
        plan = self._plans.get((dialect, keys))
        if plan is None:
            plan = self._plans[(dialect, keys)] = self._compile(dialect, keys)
        return plan

    def _compile(self, dialect: Dialect, keys: tuple[str, ...]) -> _Plan:
        compiled = cast(SQLCompiler, self.statement.compile(dialect=dialect, column_keys=list(keys)))
        names = list(compiled.positiontup or []) if compiled.positional else list(compiled.binds)
        expanding = [name for name, bind in compiled.binds.items() if bind.expanding]
        if expanding:
            raise TypeError(f"{expanding[0]}: expanding parameters are not supported by Direct")
        numbered = dialect.driver == "psycopg" and not compiled.positional
        if numbered:
            pieces, slots, names = _numbered(compiled.string)
        given = set(keys)
        params = []
        for name in names:
            bind = compiled.binds[name]
            if name not in given and (bind.required or bind.callable is not None or bind.value is None):
                # e.g. a column's Python default, which SQLAlchemy's execution would fill in
                raise TypeError(f"{name}: Direct needs a value for it")
            processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
            params.append((name, name in given, bind.value, processor))
        returned = [getattr(c, "type", None) for c in getattr(self.statement, "exported_columns", ())]
        results = tuple(t and _result_processor(t, dialect) for t in returned)
        plan = _Plan(
            sql=compiled.string,
            positional=compiled.positional,
            params=tuple(params),
            results=results if any(results) else (),
            dbapi_error=dialect.loaded_dbapi.Error,
            transactional=self.target is not None or needs_transaction(compiled.string),
        )
        if numbered:
            from psycopg import RawCursor

            sql = "".join(_placed(pieces, slots, 0))
            plan = replace(plan, sql=sql, positional=True, pieces=pieces, slots=slots, cursor=RawCursor)
        return plan

    def _bound(self, plan: _Plan, values: Mapping[str, Any]) -> Any:
        bound = []
        for name, given, literal, processor in plan.params:
            value = values[name] if given else literal
            bound.append(processor(value) if processor is not None else value)
        return bound if plan.positional else dict(zip((p[0] for p in plan.params), bound, strict=True))

    def _execute(self, session: Session, values: Mapping[str, Any]) -> Any:
        if session.autoflush:
            session.flush()  # as session.execute would: pending ORM changes go first
        connection, driver = _connection(session)
        pending: _Batch | None = connection.info.get(_PENDING)
        if pending is not None and (
            self.target is not None or self.tables is None or not self.tables.isdisjoint(pending.written)
        ):
            _send_early(connection, driver)  # a write that runs now, or a read that may see the batch's rows
        plan = self._plan(connection.dialect, tuple(values))
        if plan.transactional and getattr(connection.dialect, _BEGINS_LATE, False):
            _begin(connection, driver)
        cursor = plan.cursor(driver) if plan.cursor is not None else driver.cursor()
        params = self._bound(plan, values)
        for listener in connection.dispatch.before_cursor_execute:
            listener(connection, cursor, plan.sql, params, None, False)
        try:
            cursor.execute(plan.sql, params)
        except plan.dbapi_error as error:
            cursor.close()
            raise _as_sqlalchemys(error, plan.sql, plan.dbapi_error, connection.dialect) from error
        return connection, plan, cursor, params

    @staticmethod
    def _done(connection: Any, plan: _Plan, cursor: Any, params: Any) -> None:
        for listener in connection.dispatch.after_cursor_execute:
            listener(connection, cursor, plan.sql, params, None, False)
        cursor.close()

    def rows(self, session: Session, values: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Run it; every returned row (``SELECT`` or ``RETURNING``) as a tuple."""
        connection, plan, cursor, params = self._execute(session, values)
        fetched = cursor.fetchall()
        self._done(connection, plan, cursor, params)
        if not plan.results:
            return [tuple(row) for row in fetched]
        return [
            tuple(p(v) if p is not None else v for p, v in zip(plan.results, row, strict=True))
            for row in fetched
        ]

    def first(self, session: Session, values: Mapping[str, Any]) -> tuple[Any, ...] | None:
        found = self.rows(session, values)
        return found[0] if found else None

    def scalar(self, session: Session, values: Mapping[str, Any]) -> Any:
        """The first column of the first row, or None when there is no row."""
        row = self.first(session, values)
        return row[0] if row is not None else None

    def first_with(
        self, session: Session, values: Mapping[str, Any], along: Sequence[tuple[Direct, Mapping[str, Any]]]
    ) -> tuple[tuple[Any, ...] | None, list[list[tuple[Any, ...]]]]:
        """This read's first row and every row of each ``along`` read, on PostgreSQL (psycopg) in
        one statement: one round trip where there were ``1 + len(along)``. The reads' parameters
        must have different names (``values`` and each ``along`` read's are given together).

        The statement is this read as a subquery, joined to one row per ``along`` read that holds
        its rows as one array per column (``array_agg``: the columns of one aggregation see the
        rows in the same order), taken apart here and converted as the read's own rows would be.
        This read must give at most one row; when it gives none, the ``along`` reads run after it,
        each on its own. Elsewhere (SQLite) each read runs on its own, in order.
        """
        dialect = session.get_bind().dialect
        if not along or dialect.driver != "psycopg":
            return self.first(session, values), [read.rows(session, given) for read, given in along]
        together = _together(self, tuple(read for read, _ in along), dialect)
        merged = dict(values)
        for _, given in along:
            merged.update(given)
        found = together.direct.first(session, merged)
        if found is None:  # no row of this read to carry the others
            return None, [read.rows(session, given) for read, given in along]
        out: list[list[tuple[Any, ...]]] = []
        at = together.width
        for width, processors in together.parts:
            columns = found[at : at + width]
            at += width
            if columns[0] is None:  # array_agg of no rows
                out.append([])
            elif processors:
                rows = zip(*columns, strict=True)
                out.append(
                    [tuple(p(v) if p else v for p, v in zip(processors, r, strict=True)) for r in rows]
                )
            else:
                out.append(list(zip(*columns, strict=True)))
        return found[: together.width], out

    def run(self, session: Session, values: Mapping[str, Any]) -> int:
        """Run a statement that returns nothing; the number of rows it matched."""
        connection, plan, cursor, params = self._execute(session, values)
        count = int(cursor.rowcount)
        self._done(connection, plan, cursor, params)
        return count

    def defer(self, session: Session, values: Mapping[str, Any]) -> None:
        """Run a write whose result nobody reads, with the writes deferred next to it as one
        statement (see the module's doc), or now where that is not possible (SQLite, an engine
        without :func:`defer_writes`, a read)."""
        target, tables = self.target, self.tables
        dialect = session.get_bind().dialect
        if target is None or tables is None or not getattr(dialect, _DEFERS, False):
            self.run(session, values)  # decided before anything else: SQLite's POSTs come here
            return
        if session.autoflush:
            session.flush()  # pending ORM changes go first, as for a statement run now
        connection, driver = _connection(session)
        plan = self._plan(dialect, tuple(values))
        if not plan.pieces:  # a driver other than psycopg
            self.run(session, values)
            return
        pending: _Batch | None = connection.info.get(_PENDING)
        if pending is None:
            pending = connection.info[_PENDING] = _Batch()
        elif not pending.takes(target, tables):
            _send_early(connection, driver)
            pending = connection.info[_PENDING] = _Batch()
        pending.add(plan, self._bound(plan, values), target)


class Along(NamedTuple):
    """A read that goes out with another (:meth:`Direct.first_with`), and what takes its rows."""

    read: Direct
    values: Mapping[str, Any]
    take: Callable[[list[tuple[Any, ...]]], None]


@dataclass(frozen=True, slots=True)
class _Together:
    """:meth:`Direct.first_with`'s statement for one read and its ``along`` reads."""

    direct: Direct
    width: int  # the first read's columns
    parts: tuple[tuple[int, tuple[Processor, ...]], ...]  # per along read: its columns, their conversions
    reads: tuple[Direct, ...]  # kept, so their ids (the cache's key) stay theirs


_together_cache: dict[tuple[Any, ...], _Together] = {}


def _together(first: Direct, along: tuple[Direct, ...], dialect: Dialect) -> _Together:
    key = (dialect, id(first), *(id(read) for read in along))  # the dialect kept, as Direct's plans keep it
    found = _together_cache.get(key)
    if found is not None:
        return found
    names: set[str] = set()
    statements: list[Select[Any] | CompoundSelect[Any]] = []
    for read in (first, *along):
        statement = read.statement
        if not isinstance(statement, Select | CompoundSelect):
            raise TypeError("Direct.first_with combines reads only")
        own = set(statement.compile(dialect=dialect).binds)
        if own & names:
            raise TypeError(f"{sorted(own & names)[0]}: a parameter name two combined reads share")
        names |= own
        statements.append(statement)
    main = statements[0].subquery("m")
    joined: Any = main
    columns: list[Any] = list(main.c)
    parts = []
    for i, statement in enumerate(statements[1:]):
        rows = statement.subquery(f"r{i}")
        arrays = select(
            *(type_coerce(func.array_agg(c), NullType()).label(f"c{j}") for j, c in enumerate(rows.c))
        ).subquery(f"a{i}")
        joined = joined.join(arrays, true())
        columns += list(arrays.c)
        processors = tuple(_result_processor(c.type, dialect) for c in statement.exported_columns)
        parts.append((len(rows.c), processors if any(processors) else ()))
    found = _together_cache[key] = _Together(
        Direct(select(*columns).select_from(joined)), len(main.c), tuple(parts), (first, *along)
    )
    return found


class _Batch:
    """Deferred writes of one connection, in order (see the module's doc)."""

    __slots__ = ("parts", "written")

    def __init__(self) -> None:
        self.parts: list[tuple[_Plan, list[Any]]] = []
        self.written: dict[str, str] = {}  # table: "insert" while only INSERTs went to it, else "write"

    def takes(self, target: tuple[str, str], tables: frozenset[str]) -> bool:
        """Whether a write to ``target`` that reads ``tables`` may join: it must not read or write a
        table the batch writes (the parts of one statement share a snapshot, and must not touch the
        same row) — but a table may take several plain INSERTs (new rows)."""
        overlap = tables & self.written.keys()
        if not overlap:
            return True
        table, verb = target
        return verb == "insert" and tables == {table} and self.written[table] == "insert"

    def add(self, plan: _Plan, params: list[Any], target: tuple[str, str]) -> None:
        self.parts.append((plan, params))
        table, verb = target
        self.written[table] = verb if self.written.get(table, verb) == verb else "write"


def _numbered(sql: str) -> tuple[tuple[str, ...], tuple[int, ...], list[str]]:
    """A pyformat statement (``%(name)s``, ``%%``) as the text between its placeholders, each
    placeholder's parameter index and the parameters' names in index order (a name used twice is
    one parameter). psycopg parses a statement's placeholders on every run when its text is longer
    than 4 KB (a POST's merged writes are), and looks the conversion up in a cache otherwise; sent
    through a ``RawCursor`` with PostgreSQL's own ``$n`` it does neither."""
    pieces: list[str] = []
    slots: list[int] = []
    names: list[str] = []
    text: list[str] = []
    at = 0
    for found in _PYFORMAT.finditer(sql):
        text.append(sql[at : found.start()])
        at = found.end()
        name = found.group(1)
        if name is None:  # %%: a literal percent sign
            text.append("%")
            continue
        pieces.append("".join(text))
        text = []
        if name not in names:
            names.append(name)
        slots.append(names.index(name))
    text.append(sql[at:])
    pieces.append("".join(text))
    return tuple(pieces), tuple(slots), names


def _placed(pieces: tuple[str, ...], slots: tuple[int, ...], offset: int) -> list[str]:
    out = [pieces[0]]
    for slot, piece in zip(slots, pieces[1:], strict=True):
        out += ("$", str(slot + 1 + offset), piece)
    return out


# per sequence of plans: the merged SQL, and the plans themselves (so their ids stay theirs)
_merged_sql: dict[tuple[int, ...], tuple[str, tuple[_Plan, ...]]] = {}


def _merged(parts: list[tuple[_Plan, list[Any]]]) -> tuple[str, list[Any]]:
    """One statement for ``parts``: every part but the last a ``WITH`` part of the last one, each
    part's placeholders numbered on from the parts' before it."""
    key = tuple(id(plan) for plan, _ in parts)
    found = _merged_sql.get(key)
    if found is None:
        texts, offset = [], 0
        for plan, _ in parts:
            texts.append("".join(_placed(plan.pieces, plan.slots, offset)))
            offset += len(plan.params)
        heads = ", ".join(f"p{i} AS ({text})" for i, text in enumerate(texts[:-1]))
        found = _merged_sql[key] = (f"WITH {heads} {texts[-1]}", tuple(plan for plan, _ in parts))
    return found[0], [value for _, bound in parts for value in bound]


class _CountUnknown:
    """What listeners get as a merged part's cursor: its own row count is not known."""

    rowcount = -1


def _send(connection: Connection, driver: Any) -> None:
    """Run ``connection``'s deferred writes now, as one statement."""
    pending: _Batch | None = connection.info.pop(_PENDING, None)
    if pending is None or not pending.parts:
        return
    parts = pending.parts
    sql, params = (parts[0][0].sql, parts[0][1]) if len(parts) == 1 else _merged(parts)
    cursor = cast(Callable[[Any], Any], parts[0][0].cursor)(driver)
    for plan, bound in parts:
        for listener in connection.dispatch.before_cursor_execute:
            listener(connection, cursor, plan.sql, bound, None, False)
    try:
        cursor.execute(sql, params)
    except parts[0][0].dbapi_error as error:
        raise _as_sqlalchemys(error, sql, parts[0][0].dbapi_error, connection.dialect) from error
    finally:
        cursor.close()
    for plan, bound in parts:
        for listener in connection.dispatch.after_cursor_execute:
            listener(connection, _CountUnknown, plan.sql, bound, None, False)


def _send_early(connection: Connection, driver: Any) -> None:
    """:func:`_send` for a batch that is not the unit's last statement: inside the unit's
    transaction, begun first where it begins late (:func:`begin_at_first_write`)."""
    if getattr(connection.dialect, _BEGINS_LATE, False):
        _begin(connection, driver)
    _send(connection, driver)


def defer_writes(engine: Engine) -> None:
    """Let :meth:`Direct.defer` hold writes back on ``engine``'s connections (PostgreSQL: SQLite has
    no data-modifying ``WITH``; there it runs them at once) and send them before whatever may
    depend on them."""
    if engine.dialect.name != "postgresql":
        return
    setattr(engine.dialect, _DEFERS, True)

    def send(connection: Connection, *_: Any) -> None:
        if _PENDING in connection.info:
            _send(connection, connection.connection.driver_connection)

    def send_before(
        connection: Connection, cursor: Any, sql: str, params: Any, context: Any, many: bool
    ) -> None:
        if context is not None and _PENDING in connection.info:  # None: Direct's, decided there
            _send(connection, connection.connection.driver_connection)

    def drop(connection: Connection, *_: Any) -> None:
        # everything deferred after the savepoint (its opening sent what came before) or the
        # transaction; an invalidated connection's info went with its DBAPI connection
        if not connection.invalidated:
            connection.info.pop(_PENDING, None)

    event.listen(engine, "before_cursor_execute", send_before)
    for name in ("commit", "savepoint", "release_savepoint"):
        event.listen(engine, name, send)
    for name in ("rollback", "rollback_savepoint", "begin"):
        event.listen(engine, name, drop)

    def drop_on_checkin(_dbapi: Any, record: Any) -> None:
        record.info.pop(_PENDING, None)

    event.listen(engine, "checkin", drop_on_checkin)


def needs_transaction(sql: str) -> bool:
    """Whether a statement must run inside its unit's transaction (:func:`begin_at_first_write`):
    anything but a plain ``SELECT`` — a write, a ``WITH`` (it may write), a ``SAVEPOINT``, DDL,
    ``SET`` — and a ``SELECT`` that locks rows (``FOR UPDATE`` …)."""
    return sql.lstrip()[:6].upper() != "SELECT" or _LOCKING.search(sql) is not None


def _begin(connection: Connection, driver: Any) -> None:
    """Open the unit's transaction on a connection that begins late, unless it is open already."""
    if driver.pgconn.transaction_status != _IDLE:
        return
    dbapi_error: type[Exception] = connection.dialect.loaded_dbapi.Error
    cursor = driver.cursor()
    try:
        cursor.execute("BEGIN", prepare=False)
    except dbapi_error as error:
        raise _as_sqlalchemys(error, "BEGIN", dbapi_error, connection.dialect) from error
    finally:
        cursor.close()


def begin_at_first_write(engine: Engine) -> None:
    """Let ``engine``'s units of work (PostgreSQL, psycopg) open their transaction at their first
    statement that needs one, not at their first statement: a unit that only reads runs without
    ``BEGIN`` and ``ROLLBACK``, and one whose writes all go out as the one statement of its deferred
    writes at the commit (a guest's POST, :meth:`Direct.defer`) without ``BEGIN`` and ``COMMIT`` —
    a single statement is a transaction of its own. Decision 0013.

    The connections run in psycopg's autocommit mode; :func:`needs_transaction` decides, for every
    statement SQLAlchemy or :class:`Direct` sends, whether ``BEGIN`` goes first: before a write
    (SQLAlchemy's, ``Direct``'s, a deferred batch sent before the commit), a ``SELECT … FOR
    UPDATE``, a server-side cursor's read, a savepoint. Once open, the transaction runs to the
    commit or rollback as before (psycopg's ``commit`` and ``rollback`` look at the server's
    transaction state, not at the mode). At ``READ COMMITTED`` every statement reads its own
    snapshot anyway, so a plain ``SELECT`` before the ``BEGIN`` reads what it would have read
    inside; it takes no lock that the transaction would have held.
    """
    if engine.dialect.name != "postgresql" or engine.dialect.driver != "psycopg":
        return
    setattr(engine.dialect, _BEGINS_LATE, True)
    from psycopg import ServerCursor
    from psycopg.pq import TransactionStatus

    global _IDLE
    _IDLE = TransactionStatus.IDLE

    @event.listens_for(engine, "connect")
    def _autocommit(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.autocommit = True

    @event.listens_for(engine, "before_cursor_execute")
    def _before(connection: Connection, cursor: Any, sql: str, params: Any, context: Any, many: bool) -> None:
        if context is None:  # Direct's: decided there
            return
        if needs_transaction(sql) or _PENDING in connection.info or isinstance(cursor, ServerCursor):
            _begin(connection, connection.connection.driver_connection)

    @event.listens_for(engine, "savepoint")
    def _before_savepoint(connection: Connection, _name: str) -> None:
        _begin(connection, connection.connection.driver_connection)


def savepoints_on_the_driver(engine: Engine) -> None:
    """Let ``engine``'s dialect open, release and roll back savepoints on the DBAPI connection.

    SQLAlchemy runs each as a compiled statement through its whole execution path: a savepoint and
    its release cost ~118 µs against ~11 µs on the driver (SQLite, micro-benchmark). The
    connection's ``savepoint`` / ``release_savepoint`` / ``rollback_savepoint`` events still fire
    (SQLAlchemy calls them before the dialect); ``before_cursor_execute`` listeners no longer see
    these statements, as for ``COMMIT``. Driver errors are raised as SQLAlchemy's. A name that is
    not a plain identifier (SQLAlchemy generates ``sa_savepoint_N``) takes SQLAlchemy's path.
    """
    dialect = engine.dialect
    dbapi_error: type[Exception] = dialect.loaded_dbapi.Error

    def on_the_driver(
        template: str, fallback: Callable[[Connection, str], None]
    ) -> Callable[[Connection, str], None]:
        def run(connection: Connection, name: str) -> None:
            if not _SAVEPOINT_NAME.match(name):
                fallback(connection, name)
                return
            sql = template.format(name)
            cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
            try:
                cursor.execute(sql)
            except dbapi_error as error:
                raise _as_sqlalchemys(error, sql, dbapi_error, dialect) from error
            finally:
                cursor.close()

        return run

    for method, template in _SAVEPOINT_SQL.items():
        setattr(dialect, method, on_the_driver(template, getattr(dialect, method)))
