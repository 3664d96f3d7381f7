"""The register of statistics releases, and publishing the next one (admins)."""

from __future__ import annotations

from datetime import date, timedelta

from flask import current_app, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required

from guarantee.console import bp, forms
from guarantee.i18n import say
from guarantee.services.context import ServiceContext
from guarantee.services.officers import require_role
from guarantee.statistics import releases
from guarantee.statistics.document import DIFFERENTIAL_PRIVACY, settings_from
from guarantee.transactions import read_only, transactional, undo


def _period_end(choice: str, today: date) -> date:
    """The last day a release counts, from the choice on the publish form."""
    if choice == "month":
        return today.replace(day=1) - timedelta(days=1)
    if choice == "quarter":
        return date(today.year, 3 * ((today.month - 1) // 3) + 1, 1) - timedelta(days=1)
    return today - timedelta(days=1)


def _statistics_page(
    ctx: ServiceContext, form: forms.PublishForm, status: int = 200, refused: list[str] | None = None
) -> ResponseReturnValue:
    require_role(ctx, current_user.actor, ("admin",), "publish statistics")
    return (
        render_template(
            "console/statistics.html",
            form=form,
            register=releases.releases(ctx.session),
            refused=[say(reason) for reason in refused or []],  # each day in it said too
            rules=settings_from(current_app.config).rules,
            epsilon=current_app.config["GUARANTEE_STATISTICS_EPSILON"],
            today=ctx.today(),
        ),
        status,
    )


@bp.get("/statistics")
@login_required
@read_only
def statistics(ctx: ServiceContext) -> ResponseReturnValue:
    """The register of statistics releases, and publishing the next one (admins)."""
    return _statistics_page(ctx, forms.PublishForm())


@bp.post("/statistics")
@login_required
@transactional
def publish_statistics(ctx: ServiceContext) -> ResponseReturnValue:
    form = forms.PublishForm()
    if not form.validate():
        return _statistics_page(ctx, form, 400)
    settings = settings_from(current_app.config, private=form.method.data == DIFFERENTIAL_PRIVACY)
    admin_officer = require_role(ctx, current_user.actor, ("admin",), "publish statistics")
    try:
        release = releases.publish(ctx, admin_officer.id, settings, _period_end(form.period.data, ctx.today()))
    except releases.StatisticsRefused as refused:
        undo()
        return _statistics_page(ctx, form, 409, refused.reasons)
    flash(_("Release %(number)s is published.", number=release.number), "success")
    return redirect(url_for("console.statistics"), code=303)
