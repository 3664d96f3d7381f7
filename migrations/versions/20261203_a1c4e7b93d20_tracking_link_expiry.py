"""Each e-mail to a group carries a tracking link of its own, which ends after a set time
(GUARANTEE_TRACKING_LINK_DAYS): tracking_tokens.expires_at. The token given when a claim is filed
keeps no end (NULL).

Links already e-mailed (those an outbox message names) are given the default 30 days from when
they were made. Downgrading drops the column: those links then last until revoked, as before.

Revision ID: a1c4e7b93d20
Revises: dea620987a51
Create Date: 2026-12-03 14:15:00

"""
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'a1c4e7b93d20'
down_revision = 'dea620987a51'
branch_labels = None
depends_on = None

DEFAULT_DAYS = 30


@contextmanager
def _batch() -> Iterator[object]:
    """A batch alteration of tracking_tokens. Reflecting it reflects the claims it refers to, whose
    expression index (the queue's due order) SQLAlchemy cannot read and says so: that table is not
    copied, so the warning is noise here."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Skipped unsupported reflection of expression-based index")
        with op.batch_alter_table('tracking_tokens', schema=None) as batch_op:
            yield batch_op


def upgrade() -> None:
    with _batch() as batch_op:
        batch_op.add_column(sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True))
    tokens = sa.table(
        'tracking_tokens',
        sa.column('id', sa.Integer),
        sa.column('created_at', sa.DateTime(timezone=True)),
        sa.column('expires_at', sa.DateTime(timezone=True)),
    )
    outbox = sa.table('outbox', sa.column('tracking_token_id', sa.Integer))
    connection = op.get_bind()
    e_mailed = connection.execute(
        sa.select(tokens.c.id, tokens.c.created_at).where(
            tokens.c.id.in_(sa.select(outbox.c.tracking_token_id).where(outbox.c.tracking_token_id.is_not(None)))
        )
    ).all()
    for token_id, created_at in e_mailed:
        connection.execute(
            sa.update(tokens)
            .where(tokens.c.id == token_id)
            .values(expires_at=created_at + timedelta(days=DEFAULT_DAYS))
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # SQLite 3.35 drops a column in place; a batch would copy the table, which the outbox's
        # foreign key to it forbids while messages refer to its rows.
        op.execute("ALTER TABLE tracking_tokens DROP COLUMN expires_at")
        return
    op.drop_column('tracking_tokens', 'expires_at')
