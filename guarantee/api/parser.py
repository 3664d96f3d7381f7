"""The API's Blueprint: flask-smorest's, with a JSON reader that cannot be made to crash, who may
call each operation checked before anything reads the request, and a decorator that documents an
operation's problem responses."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import flask
import flask_smorest
from webargs import core
from webargs.flaskparser import FlaskParser, abort, is_json_request

from guarantee.api import auth
from guarantee.api.problems import PROBLEM_JSON
from guarantee.schemas.common import ProblemSchema
from workflows.words import N_


class SafeJsonParser(FlaskParser):
    """Body too deeply nested, or a number too long to read: a 400, never a 500."""

    def _raw_load_json(self, req: flask.Request) -> Any:
        if not is_json_request(req):
            return core.missing
        try:
            return core.parse_json(req.get_data(cache=True))
        except (RecursionError, ValueError) as exc:
            if isinstance(exc, UnicodeDecodeError) or type(exc).__name__ == "JSONDecodeError":
                raise
            abort(
                400,
                exc=exc,
                messages={"json": [N_("The JSON is nested too deeply, or has a number too long to read.")]},
            )


class Blueprint(flask_smorest.Blueprint):  # type: ignore[misc]
    ARGUMENTS_PARSER = SafeJsonParser()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The first thing every request to this blueprint meets: before the body is checked for
        # type or size, before @blp.arguments parses body or query, before the view.
        self.before_request(auth.check_caller)

    @staticmethod
    def doc(**kwargs: Any) -> Callable[[Any], Any]:
        """flask-smorest's ``doc``. Its ``security`` is also the rule ``auth.check_caller`` enforces,
        so the document and the check cannot disagree."""
        document: Callable[[Any], Any] = flask_smorest.Blueprint.doc(**kwargs)
        if "security" not in kwargs:
            return document

        def declare(view: Any) -> Any:
            view = document(view)
            setattr(view, auth.DECLARED_SECURITY, kwargs["security"])
            return view

        return declare

    def problems(self, *codes: int) -> Callable[[Any], Any]:
        """Document the problem responses (RFC 9457) an operation can give."""

        def decorate(view: Any) -> Any:
            for code in codes:
                view = self.alt_response(code, schema=ProblemSchema, content_type=PROBLEM_JSON)(view)
            return view

        return decorate
