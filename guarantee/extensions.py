"""Flask extensions, created unbound; ``create_app`` binds them."""

from __future__ import annotations

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

from guarantee.models.base import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
# Storage comes from RATELIMIT_STORAGE_URI: memory:// counts per process, so use Redis
# (redis://...) wherever more than one worker serves.
limiter = Limiter(key_func=get_remote_address)
# Officers' console sessions (guarantee.console.sessions sets it up).
login_manager = LoginManager()
