"""The queue's orders within each state: (state, due order, id) and (state, submitted_at, id).

A page of the queue is the first claims of each chosen state in the page's order, merged: each
state's part reads its own stretch of one of these indexes, whatever the other states hold, so
neither database has to guess from statistics which index to use. The (due order, id) index
this replaces served a walk of every claim in due order, which SQLite without statistics did not
choose (it sorted every active claim: 0.11 s a page at a million claims).

Revision ID: e5c2b8d4a1f7
Revises: d3a7f1c5e8b2
Create Date: 2026-11-23 11:40:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'e5c2b8d4a1f7'
down_revision = 'd3a7f1c5e8b2'
branch_labels = None
depends_on = None

# The same expression as guarantee.services.queue.DUE_ORDER, character for character: both
# databases use an expression index only for the very expression it was built on.
DUE_ORDER = "coalesce(due_on, '9999-12-31')"


def upgrade() -> None:
    op.create_index('ix_claims_queue_state_due', 'claims', ['state', sa.text(DUE_ORDER), 'id'], unique=False)
    op.create_index('ix_claims_queue_state_submitted', 'claims', ['state', 'submitted_at', 'id'], unique=False)
    op.drop_index('ix_claims_queue_due', table_name='claims')


def downgrade() -> None:
    op.create_index('ix_claims_queue_due', 'claims', [sa.text(DUE_ORDER), 'id'], unique=False)
    op.drop_index('ix_claims_queue_state_submitted', table_name='claims')
    op.drop_index('ix_claims_queue_state_due', table_name='claims')
