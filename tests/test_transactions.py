"""The edge's one transaction per request (guarantee.transactions): a view's changes are committed
once when it answers below 400, and rolled back when it answers with an error page, when it
raises, when it only reads, or when it said the change was refused; a refusal's own record is
kept when the view says so. On SQLite and PostgreSQL, against a real commit."""

from __future__ import annotations

import pytest
from flask import Blueprint, Flask, redirect
from flask.typing import ResponseReturnValue
from sqlalchemy import func, select

from guarantee.extensions import db
from guarantee.models import Regulation
from guarantee.services.context import ServiceContext
from guarantee.transactions import keep, read_only, transactional, undo


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

    @bp.get("/test-transactions/read")
    @read_only
    def read(ctx: ServiceContext) -> ResponseReturnValue:
        _add(ctx, "read")
        return "read"

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
    assert views.test_client().get("/test-transactions/read").status_code == 200
    assert saved(views) == set()
