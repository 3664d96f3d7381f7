"""Claims being written on the question pages: the answers so far, under the SHA-256 of a
random key that only the browser holds. Each lasts seven days after its last change.

Downgrading drops the table: a draft is a convenience, and the answers were never filed.

Revision ID: b2d8e4f61a93
Revises: a1c4e7b93d20
Create Date: 2026-12-03 14:30:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'b2d8e4f61a93'
down_revision = 'a1c4e7b93d20'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('claim_drafts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_claim_drafts')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_claim_drafts_key_hash'))
    )
    with op.batch_alter_table('claim_drafts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_claim_drafts_expires_at'), ['expires_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('claim_drafts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_claim_drafts_expires_at'))
    op.drop_table('claim_drafts')
