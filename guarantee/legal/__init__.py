"""The legal pages every UK public service has (issue 21), linked from every page's footer:
the accessibility statement, the privacy notice, the cookies page and how to contact the council.

What they say comes from the settings the rest of the service runs on (the council's details, the
retention periods, the cookies' names and lifetimes, the recorded accessibility tests), so that a
page cannot say one thing while the service does another. The views only read configuration."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, Flask, current_app, render_template
from flask_login import current_user

from guarantee.console.sessions import ABSOLUTE, IDLE
from guarantee.legal import accessibility, cookies
from guarantee.legal.council import Council, marks_shown, reviewed_on
from guarantee.public import tracking
from guarantee.services.drafts import KEEP_FOR as DRAFT_KEPT_FOR
from guarantee.services.following import CONFIRM_WITHIN

bp = Blueprint("legal", __name__, template_folder="templates")


def _page(template: str, **values: Any) -> str:
    roles = current_user.roles if current_user.is_authenticated else None
    return render_template(
        template,
        marked=marks_shown(current_app.config, roles),
        reviewed_on=reviewed_on(current_app.config),
        **values,
    )


@bp.get("/accessibility")
def accessibility_statement() -> str:
    return _page(
        "legal/accessibility.html",
        compliance=current_app.config["GUARANTEE_ACCESSIBILITY_COMPLIANCE"],
        tests=accessibility.automated_tests(),
        officer_idle=cookies.duration(IDLE),
        officer_absolute=cookies.duration(ABSOLUTE),
        tracking_idle=cookies.duration(timedelta(seconds=tracking.LIFETIME_SECONDS)),
    )


@bp.get("/privacy")
def privacy_notice() -> str:
    return _page(
        "legal/privacy.html",
        contact_months=int(current_app.config["GUARANTEE_RETENTION_CONTACT_MONTHS"]),
        evidence_months=int(current_app.config["GUARANTEE_RETENTION_EVIDENCE_MONTHS"]),
        draft_days=DRAFT_KEPT_FOR.days,
        confirm_days=CONFIRM_WITHIN.days,
    )


@bp.get("/cookies")
def cookies_page() -> str:
    return _page("legal/cookies.html", cookies=cookies.cookies())


@bp.get("/contact")
def contact() -> str:
    return _page("legal/contact.html")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)

    @app.context_processor
    def _council() -> dict[str, Any]:
        """Every page's footer names the council and links to these pages."""
        return {"council": Council.from_config(app.config)}
