"""The outbox as the sender uses it: a lease while a message is being sent, the tracking token
minted for it, the old address a change-of-address notice goes to, and the statuses sending and
skipped.

Revision ID: 4f2a8c1d9e37
Revises: c41d7a2e9b85
Create Date: 2026-11-23 00:50:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '4f2a8c1d9e37'
down_revision = 'c41d7a2e9b85'
branch_labels = None
depends_on = None

OLD = "status IN ('pending', 'sent', 'failed')"
NEW = "status IN ('pending', 'sending', 'sent', 'failed', 'skipped')"


def upgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('lease_token', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('tracking_token_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('to_address', sa.String(length=254), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_outbox_tracking_token_id_tracking_tokens'), 'tracking_tokens', ['tracking_token_id'], ['id']
        )
        batch_op.drop_constraint(batch_op.f('ck_outbox_status_valid'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_outbox_status_valid'), NEW)


def downgrade() -> None:
    op.execute("UPDATE outbox SET status = 'pending' WHERE status = 'sending'")
    op.execute("UPDATE outbox SET status = 'failed' WHERE status = 'skipped'")
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_outbox_status_valid'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_outbox_status_valid'), OLD)
        batch_op.drop_constraint(batch_op.f('fk_outbox_tracking_token_id_tracking_tokens'), type_='foreignkey')
        batch_op.drop_column('to_address')
        batch_op.drop_column('tracking_token_id')
        batch_op.drop_column('lease_token')
        batch_op.drop_column('lease_until')
