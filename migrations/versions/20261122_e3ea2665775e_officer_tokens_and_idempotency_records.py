"""Officers' API tokens (hashed, expiring, revocable) and Idempotency-Key records.

Revision ID: e3ea2665775e
Revises: 0c9f6b6782be
Create Date: 2026-11-22 18:59:45.924203

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'e3ea2665775e'
down_revision = '0c9f6b6782be'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('idempotency_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scope', sa.String(length=200), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=True),
    sa.Column('body', sa.JSON(), nullable=True),
    sa.Column('headers', sa.JSON(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_idempotency_records')),
    sa.UniqueConstraint('scope', 'key_hash', name='uq_idempotency_records_scope_key')
    )
    with op.batch_alter_table('idempotency_records', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_idempotency_records_expires_at'), ['expires_at'], unique=False)

    op.create_table('officer_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('officer_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['officer_id'], ['officers.id'], name=op.f('fk_officer_tokens_officer_id_officers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_officer_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_officer_tokens_token_hash'))
    )
    with op.batch_alter_table('officer_tokens', schema=None) as batch_op:
        batch_op.create_index('ix_officer_tokens_officer_id', ['officer_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('officer_tokens', schema=None) as batch_op:
        batch_op.drop_index('ix_officer_tokens_officer_id')

    op.drop_table('officer_tokens')
    with op.batch_alter_table('idempotency_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_idempotency_records_expires_at'))

    op.drop_table('idempotency_records')
