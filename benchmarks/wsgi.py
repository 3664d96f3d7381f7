"""The benchmark's WSGI entry point: ``gunicorn benchmarks.wsgi:app`` (see benchmarks/app.py)."""

from benchmarks.app import create_bench_app

app = create_bench_app()
