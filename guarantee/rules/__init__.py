"""The public rule pages (issue 20, item 4): the catalogue entries claims are about, each with how
to challenge it, its claims by outcome under disclosure control, its decision statements, and
following it by Atom feed or by e-mail (double opt-in, one-click unsubscribe)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("rules", __name__, template_folder="templates")

from guarantee.rules import routes  # noqa: E402, F401  (the views register themselves on bp)
