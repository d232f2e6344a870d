"""Problem documents: the OpenAPI description of errors, and validation errors per field."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi.exceptions import RequestValidationError
from sqlalchemy import create_engine
from sqlalchemy.pool import QueuePool

from parley.errors import ErrorCode, RateLimited, ValidationFailed
from parley.web.problems import (
    ProblemOut,
    _field_errors,
    _problem_components,
    database_unavailable,
    problem_responses,
)


def test_problem_responses_document_problem_json_and_a_default() -> None:
    docs = problem_responses({404: "Not found", 422: "Invalid fields"})
    assert set(docs) == {404, 422, "default"}
    for spec in docs.values():
        assert spec["content"] == {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
        }
        assert spec["description"].endswith("(problem+json)")


def test_the_problem_schema_lists_every_error_code() -> None:
    components = _problem_components()
    assert set(components["ErrorCode"]["enum"]) == {c.value for c in ErrorCode}
    assert components["Problem"]["additionalProperties"] is True
    ProblemOut.model_validate(
        {
            "type": "urn:parley:problem:not_found",
            "title": "t",
            "status": 404,
            "code": "not_found",
            "detail": "d",
        }
    )


def test_validation_errors_name_their_fields() -> None:
    exc = RequestValidationError(
        [
            {"loc": ("body", "parent_id"), "type": "greater_than_equal", "msg": "too small"},
            {"loc": ("query", "limit"), "type": "int_parsing", "msg": "x" * 500},
            {"loc": ("body",), "type": "missing", "msg": "Field required"},
        ]
    )
    errors = _field_errors(exc)
    assert errors[0] == {"field": "parent_id", "code": "greater_than_equal", "message": "too small"}
    assert errors[1]["field"] == "limit"
    assert len(errors[1]["message"]) == 300
    assert errors[2]["field"] == "body"


def test_app_errors_carry_their_extras() -> None:
    assert RateLimited(1.2).headers == {"Retry-After": "2"}
    assert RateLimited(0).retry_after == 1
    failed = ValidationFailed([{"field": "x", "code": "c", "message": "m"}])
    assert failed.extra["errors"][0]["field"] == "x"
    assert failed.status == 422


def _raised(call: Callable[[], Any]) -> Exception:
    try:
        call()
    except Exception as exc:
        return exc
    raise AssertionError("expected an exception")


def test_a_busy_database_and_an_exhausted_pool_are_unavailable_a_faulty_statement_is_not(
    tmp_path: Path,
) -> None:
    path = tmp_path / "x.db"
    engine = create_engine(f"sqlite:///{path}", connect_args={"timeout": 0})
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (id INTEGER PRIMARY KEY)")
        conn.exec_driver_sql("INSERT INTO t VALUES (1)")
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # another process's write transaction
    try:
        with engine.connect() as conn:
            busy = _raised(lambda: conn.exec_driver_sql("INSERT INTO t VALUES (2)"))
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    with engine.connect() as conn:
        missing = _raised(lambda: conn.exec_driver_sql("SELECT * FROM no_such_table"))
        duplicate = _raised(lambda: conn.exec_driver_sql("INSERT INTO t VALUES (1)"))
    small = create_engine(
        f"sqlite:///{path}", poolclass=QueuePool, pool_size=1, max_overflow=0, pool_timeout=0.05
    )
    with small.connect():
        exhausted = _raised(small.connect)
    assert "locked" in str(busy)
    assert database_unavailable(busy)
    assert database_unavailable(exhausted)
    assert "no such table" in str(missing)  # also sqlite3.OperationalError, but a fault to fix: 500
    assert not database_unavailable(missing)
    assert not database_unavailable(duplicate)
    assert not database_unavailable(ValueError("not a database error"))
