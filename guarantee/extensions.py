"""Flask extensions, created unbound; ``create_app`` binds them."""

from __future__ import annotations

from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

from guarantee.models.base import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
