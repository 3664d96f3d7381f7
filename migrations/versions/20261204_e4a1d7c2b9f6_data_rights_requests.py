"""A group's data rights requests (issue 21): to see what is held about its claim (UK GDPR
Article 15) or to have its contact details and evidence erased (Article 17), each with its
one-month clock, whether it came from the tracking page or by post, e-mail or phone.

Downgrading drops the table; each request stays in its claim's audit chain (as codes and dates).

Revision ID: e4a1d7c2b9f6
Revises: 5b8e1f3c9a27
Create Date: 2026-12-04 04:30:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'e4a1d7c2b9f6'
down_revision = '5b8e1f3c9a27'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('data_rights_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('claim_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('recorded_by', sa.Integer(), nullable=True),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('completed_by', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.CheckConstraint("kind IN ('access', 'erasure')", name=op.f('ck_data_rights_requests_kind_valid')),
    sa.CheckConstraint("channel IN ('tracking_page', 'post', 'email', 'phone')", name=op.f('ck_data_rights_requests_channel_valid')),
    sa.CheckConstraint('completed_by IS NULL OR completed_at IS NOT NULL', name=op.f('ck_data_rights_requests_completed_with_time')),
    sa.ForeignKeyConstraint(['claim_id'], ['claims.id'], name=op.f('fk_data_rights_requests_claim_id_claims')),
    sa.ForeignKeyConstraint(['recorded_by'], ['officers.id'], name=op.f('fk_data_rights_requests_recorded_by_officers')),
    sa.ForeignKeyConstraint(['completed_by'], ['officers.id'], name=op.f('fk_data_rights_requests_completed_by_officers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_data_rights_requests'))
    )
    with op.batch_alter_table('data_rights_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_data_rights_requests_claim_id'), ['claim_id'], unique=False)
        batch_op.create_index('ix_data_rights_requests_open', ['completed_at', 'due_on'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('data_rights_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_data_rights_requests_open')
        batch_op.drop_index(batch_op.f('ix_data_rights_requests_claim_id'))
    op.drop_table('data_rights_requests')
