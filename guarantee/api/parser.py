"""The API's Blueprint: flask-smorest's, with a JSON reader that cannot be made to crash and a
decorator that documents an operation's problem responses."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import flask
import flask_smorest
from webargs import core
from webargs.flaskparser import FlaskParser, abort, is_json_request

from guarantee.api.problems import PROBLEM_JSON
from guarantee.schemas.common import ProblemSchema


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
            abort(400, exc=exc, messages={"json": ["The JSON is nested too deeply, or has a number too long to read."]})


class Blueprint(flask_smorest.Blueprint):  # type: ignore[misc]
    ARGUMENTS_PARSER = SafeJsonParser()

    def problems(self, *codes: int) -> Callable[[Any], Any]:
        """Document the problem responses (RFC 9457) an operation can give."""

        def decorate(view: Any) -> Any:
            for code in codes:
                view = self.alt_response(code, schema=ProblemSchema, content_type=PROBLEM_JSON)(view)
            return view

        return decorate
