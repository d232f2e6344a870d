"""``add_as_stored``: one INSERT, the column defaults filled in, the object in the session as loaded;
``add_later``: the same row, its key the database's, nothing read back."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import JSON, Integer, String, bindparam, create_engine, select, text
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from parley.db.direct import Direct
from parley.db.stored import add_as_stored, add_later, load_as_stored
from support.sqltrace import driver_statements


class Base(DeclarativeBase):  # not parley's: these tables must not join the real schema
    pass


class Note(Base):
    __tablename__ = "test_stored_notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(40))
    votes: Mapped[int] = mapped_column(default=0)
    state: Mapped[str] = mapped_column(String(16), default="open")
    tags: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    author: Mapped[str | None] = mapped_column(String(40), default=None)


class Stamped(Base):
    __tablename__ = "test_stored_stamped"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    made: Mapped[str] = mapped_column(String(40), server_default=text("'now'"))


@pytest.fixture
def session() -> Iterator[Session]:
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with Session(engine) as s:
        yield s
    engine.dispose()


def test_the_row_is_stored_with_its_defaults_and_the_object_is_in_the_session(session: Session) -> None:
    with driver_statements(session) as statements:
        first = add_as_stored(session, Note, {"title": "eins"})
        second = add_as_stored(session, Note, {"title": "zwei", "votes": 3, "tags": {"a": 1}})
    assert [s.split()[0] for s in statements] == ["INSERT", "INSERT"]  # no flush, no re-read
    assert (first.id, first.votes, first.state, first.tags, first.author) == (1, 0, "open", {}, None)
    assert (second.id, second.tags) == (2, {"a": 1})
    first.tags["x"] = 1  # every object got a dict of its own
    assert second.tags == {"a": 1}
    assert add_as_stored(session, Note, {"title": "drei"}).tags == {}
    stored = session.execute(select(Note.__table__)).all()
    assert [tuple(r) for r in stored] == [
        (1, "eins", 0, "open", {}, None),
        (2, "zwei", 3, "open", {"a": 1}, None),
        (3, "drei", 0, "open", {}, None),
    ]
    with driver_statements(session) as statements:
        assert session.get(Note, 2) is second  # the identity map has it: no query
        assert statements == []
        second.state = "closed"  # a later change is flushed like any loaded object's
        session.flush()
    assert [s.split()[0] for s in statements] == ["UPDATE"]
    assert session.execute(text("SELECT state FROM test_stored_notes WHERE id = 2")).scalar() == "closed"


def test_unknown_columns_and_server_defaults_are_refused(session: Session) -> None:
    with pytest.raises(TypeError, match="no columns"):
        add_as_stored(session, Note, {"title": "x", "colour": "blau"})
    with pytest.raises(TypeError, match="server-side defaults"):
        add_as_stored(session, Stamped, {})


NOTES = Note.__table__
BY_TITLE = Direct(select(NOTES).where(NOTES.c.title == bindparam("title")))


def test_a_row_is_loaded_as_the_orm_would_load_it(session: Session) -> None:
    add_as_stored(session, Note, {"title": "eins", "tags": {"k": [1]}})
    session.commit()
    session.expunge_all()
    with driver_statements(session) as statements:
        note = load_as_stored(session, Note, BY_TITLE, {"title": "eins"})
        assert load_as_stored(session, Note, BY_TITLE, {"title": "keins"}) is None
    assert [s.split()[0] for s in statements] == ["SELECT", "SELECT"]
    assert note is not None
    assert (note.id, note.title, note.votes, note.state, note.tags) == (1, "eins", 0, "open", {"k": [1]})
    assert session.get(Note, 1) is note  # in the identity map, as a query's result would be
    assert load_as_stored(session, Note, BY_TITLE, {"title": "eins"}) is note  # the session's own object
    note.votes = 7  # a change is flushed like any loaded object's
    with driver_statements(session) as statements:
        session.flush()
    assert [s.split()[0] for s in statements] == ["UPDATE"]
    assert session.execute(text("SELECT votes FROM test_stored_notes WHERE id = 1")).scalar() == 7


def test_loading_needs_every_column(session: Session) -> None:
    add_as_stored(session, Note, {"title": "eins"})
    some = Direct(select(NOTES.c.id, NOTES.c.title))
    with pytest.raises(TypeError, match="every column"):
        load_as_stored(session, Note, some, {})


def test_a_row_added_later_gets_its_defaults_and_the_databases_key(session: Session) -> None:
    add_as_stored(session, Note, {"title": "eins"})
    with driver_statements(session) as statements:
        add_later(session, Note, {"title": "zwei", "votes": 2})
    assert len(statements) == 1  # SQLite runs a deferred write at once
    assert "RETURNING" not in statements[0].upper()  # nothing read back
    assert "id" not in statements[0].split("(", 1)[1].split(")", 1)[0].split(", ")
    stored = session.execute(select(Note.__table__).order_by(Note.id)).all()
    assert [tuple(r) for r in stored][-1] == (2, "zwei", 2, "open", {}, None)
    with pytest.raises(TypeError, match="assigns the id"):
        add_later(session, Note, {"id": 9, "title": "neun"})
