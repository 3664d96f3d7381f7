"""The edge's one transaction per request (guarantee.transactions): a view's changes are committed
once when it answers below 400, and rolled back when it answers with an error page, when it
raises, when it only reads, or when it said the change was refused; a refusal's own record is
kept when the view says so. On SQLite and PostgreSQL, against a real commit."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask import Blueprint, Flask, redirect
from flask.typing import ResponseReturnValue
from sqlalchemy import create_engine, func, insert, select
from sqlalchemy.pool import NullPool

from guarantee.database import configure_engine
from guarantee.extensions import db
from guarantee.models import Regulation
from guarantee.services.context import ServiceContext
from guarantee.transactions import keep, read_only, transactional, undo

NOW = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)


def _add(ctx: ServiceContext, title: str) -> None:
    ctx.session.add(Regulation(title=title, category="food_hygiene", created_at=ctx.now()))
    ctx.session.flush()


@pytest.fixture
def views(app: Flask) -> Flask:
    """The app, with views that each write a catalogue entry named after how they answer."""
    bp = Blueprint("transactions_test", __name__)

    @bp.post("/test-transactions/<how>")
    @transactional
    def change(ctx: ServiceContext, how: str) -> ResponseReturnValue:
        _add(ctx, how)
        if how == "raises":
            raise RuntimeError("the view failed half-way")
        if how == "redirects":
            return redirect("/", code=303)
        if how == "refuses":
            return "refused", 409
        if how == "is refused, then redirects":
            undo()
            return redirect("/", code=303)
        if how == "is refused, and keeps a record":
            undo()
            _add(ctx, "the refusal's record")
            keep()
            return "refused", 400
        return "done", 200

    @bp.post("/test-transactions/read")
    @read_only
    def read(ctx: ServiceContext) -> ResponseReturnValue:
        _add(ctx, "read")
        return "read"

    @bp.get("/test-transactions/count")
    @read_only
    def count(ctx: ServiceContext) -> ResponseReturnValue:
        return str(ctx.session.scalar(select(func.count()).select_from(Regulation)))

    @bp.get("/test-transactions/writes-on-a-get")
    @read_only
    def writes_on_a_get(ctx: ServiceContext) -> ResponseReturnValue:
        _add(ctx, "written on a GET")
        return "written"

    @bp.get("/test-transactions/changes-on-a-get")
    @transactional
    def changes_on_a_get(ctx: ServiceContext) -> ResponseReturnValue:
        _add(ctx, "changed on a GET")
        return "changed"

    app.register_blueprint(bp)
    return app


def saved(app: Flask) -> set[str]:
    with app.app_context():
        return set(db.session.scalars(select(Regulation.title)))


@pytest.mark.parametrize(
    ("how", "kept"),
    [
        ("succeeds", {"succeeds"}),
        ("redirects", {"redirects"}),
        ("refuses", set()),
        ("is refused, then redirects", set()),
        ("is refused, and keeps a record", {"the refusal's record"}),
    ],
)
def test_a_views_changes_are_committed_only_when_it_succeeds(views: Flask, how: str, kept: set[str]) -> None:
    views.test_client().post(f"/test-transactions/{how}")
    assert saved(views) == kept


def test_a_view_that_raises_commits_nothing(views: Flask) -> None:
    with pytest.raises(RuntimeError):
        views.test_client().post("/test-transactions/raises")
    assert saved(views) == set()
    with views.app_context():
        assert db.session.scalar(select(func.count()).select_from(Regulation)) == 0


def test_a_read_only_view_commits_nothing_whatever_it_does(views: Flask) -> None:
    assert views.test_client().post("/test-transactions/read").status_code == 200
    assert saved(views) == set()


def test_a_page_that_only_reads_answers_while_a_writer_holds_the_database(views: Flask) -> None:
    """On SQLite a GET's transaction is deferred, so it reads its snapshot instead of queueing
    behind BEGIN IMMEDIATE for as long as the writer takes (up to the 30 s busy timeout)."""
    with views.app_context():
        writer = configure_engine(create_engine(db.engine.url, poolclass=NullPool))
    try:
        with writer.begin() as held:
            held.execute(insert(Regulation).values(title="not committed yet", category="food_hygiene", created_at=NOW))
            answer = views.test_client().get("/test-transactions/count")
            assert (answer.status_code, answer.text) == (200, "0")
        assert views.test_client().get("/test-transactions/count").text == "1"
    finally:
        writer.dispose()


def test_a_get_whose_view_writes_without_being_transactional_is_refused_outside_production(views: Flask) -> None:
    """So a GET that writes is found by the tests, not by a reader that cannot take the lock."""
    with pytest.raises(Exception, match="read"):
        views.test_client().get("/test-transactions/writes-on-a-get")
    assert saved(views) == set()


def test_a_transactional_view_may_change_things_on_a_get(views: Flask) -> None:
    assert views.test_client().get("/test-transactions/changes-on-a-get").status_code == 200
    assert saved(views) == {"changed on a GET"}
