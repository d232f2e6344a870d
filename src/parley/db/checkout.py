"""A pooled PostgreSQL connection checked at checkout without a round trip.

SQLAlchemy's ``pool_pre_ping`` sends a statement on every checkout and waits for its answer: one of
the round trips of every request on PostgreSQL — of a returning guest's POST's seven, ~2 % of its
throughput (docs/performance.md, "Fewer round trips on PostgreSQL").

A connection the server has ended — restarted or stopped, the backend terminated or crashed, an idle
timeout — is one whose socket has something to read: the server's ``FATAL`` message, or the end
of the stream. On a connection back in the pool the server sends nothing else: Parley does not
``LISTEN``, and a setting's ``ParameterStatus`` follows only a ``SET`` of the session's own. So at
checkout :func:`check_on_checkout`'s listener polls the socket, without waiting, in place of the
ping: something to read, libpq's state not ``OK`` or a transaction left open, and the listener raises
SQLAlchemy's ``DisconnectionError``, on which the pool discards that connection and opens a new
one in its place (SQLAlchemy's documented "pessimistic" handling, done by a poll instead of a
statement).

What a poll cannot see, the ping could not either in time: a server machine that vanished without
closing its connections (no ``FIN``) — the ping would have waited for TCP's timeout just the same.
"""

from __future__ import annotations

import logging
import select
from typing import Any

from sqlalchemy import event, exc
from sqlalchemy.engine import Engine

log = logging.getLogger(__name__)


def ended(dbapi_connection: Any) -> bool:
    """Whether a psycopg connection is unusable or the server has spoken on it unasked."""
    if dbapi_connection.closed or dbapi_connection.broken:
        return True
    pgconn = dbapi_connection.pgconn
    # imported here: SQLite installs load this module too, and need not pay for psycopg's import
    from psycopg.pq import ConnStatus, TransactionStatus

    if pgconn.status != ConnStatus.OK or pgconn.transaction_status != TransactionStatus.IDLE:
        return True
    poller = select.poll()
    poller.register(pgconn.socket, select.POLLIN | select.POLLPRI)
    return bool(poller.poll(0))


def check_on_checkout(engine: Engine) -> None:
    """Replace a connection the server has ended before the pool hands it out (PostgreSQL with
    psycopg; the engine is created without ``pool_pre_ping``)."""

    @event.listens_for(engine, "checkout")
    def _check(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        if ended(dbapi_connection):
            log.info("a pooled database connection was ended by the server: replaced")
            raise exc.DisconnectionError("the server ended the connection")
