"""WSGI entry point: ``gunicorn wsgi:app``."""

from guarantee import create_app

app = create_app()
