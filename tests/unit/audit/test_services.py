"""An audit event is stored when it is recorded, on SQLite and PostgreSQL: every comment the pipeline
holds is audited inside the writers' lock, where leaving the row to the ORM's flush cost more than
the statement (issue 7)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from parley.audit.models import AuditEvent
from parley.audit.services import do_audit
from parley.clock import FrozenClock
from parley.config import Settings
from parley.db.database import Database
from support.factories import make_site


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    database = Database(settings)
    yield database
    database.dispose()


def test_an_event_is_stored_without_waiting_for_a_flush(db: Database, clock: FrozenClock) -> None:
    site_id = make_site(db, clock, "audited")
    data = {"decision_id": 7, "codes": ["copy_spam"]}
    with db.write() as s:
        event = do_audit(
            s, action="comment.moderated", object_type="comment", object_id=42,
            site_id=site_id, now=clock.now(), data=data,
        )  # fmt: skip
        assert not s.new  # nothing left for the unit of work
        assert event.id is not None
        with s.no_autoflush:
            stored = s.execute(select(AuditEvent.action, AuditEvent.object_id, AuditEvent.data)).one()
        assert tuple(stored) == ("comment.moderated", 42, data)
    with db.read() as s:
        (found,) = s.scalars(select(AuditEvent)).all()
        assert (found.id, found.site_id, found.actor_kind, found.created_at) == (
            event.id, site_id, "system", clock.now(),
        )  # fmt: skip
