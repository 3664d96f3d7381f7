"""/api/docs: Swagger UI from the files the flask-swagger-ui package ships (no CDN)."""

from __future__ import annotations

from pathlib import Path

import flask_swagger_ui
from flask import Blueprint, Response, render_template, send_from_directory

SWAGGER_UI = Path(flask_swagger_ui.__file__).resolve().parent / "dist"

bp = Blueprint("api_docs", __name__, url_prefix="/api/docs")


@bp.get("/")
def index() -> str:
    return render_template("api_docs.html", spec_url="/openapi.json")


@bp.get("/<path:filename>")
def asset(filename: str) -> Response:
    return send_from_directory(SWAGGER_UI, filename, max_age=3600)
