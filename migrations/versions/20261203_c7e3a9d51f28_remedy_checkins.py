"""Did the remedy happen? The check-ins a group gets 3, 6 and 12 months after its upheld
claim's resolution is recorded: the SHA-256 of each check-in's link, the group's answer, and the
admins' follow-up of an answer that the remedy is not in place.

Downgrading drops the table; the answers stay in each claim's audit chain (as codes and hashes)
and their words in the claims' timelines.

Revision ID: c7e3a9d51f28
Revises: 72f7fe40a396
Create Date: 2026-12-03 17:20:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'c7e3a9d51f28'
down_revision = '72f7fe40a396'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('remedy_checkins',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('claim_id', sa.Integer(), nullable=False),
    sa.Column('months', sa.Integer(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('queued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('message_id', sa.String(length=200), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=True),
    sa.Column('link_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('answer', sa.String(length=32), nullable=True),
    sa.Column('answer_seq', sa.Integer(), nullable=True),
    sa.Column('follow_up_due_on', sa.Date(), nullable=True),
    sa.Column('follow_up_closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('follow_up_closed_by', sa.Integer(), nullable=True),
    sa.CheckConstraint('months IN (3, 6, 12)', name=op.f('ck_remedy_checkins_months_valid')),
    sa.CheckConstraint(
        "answer IN ('running_remedy_in_place', 'remedy_in_place_not_running', 'remedy_not_in_place')",
        name=op.f('ck_remedy_checkins_answer_valid'),
    ),
    sa.CheckConstraint('(answer IS NULL) = (answered_at IS NULL)', name=op.f('ck_remedy_checkins_answer_with_time')),
    sa.CheckConstraint(
        'follow_up_closed_at IS NULL OR follow_up_due_on IS NOT NULL',
        name=op.f('ck_remedy_checkins_closed_if_opened'),
    ),
    sa.ForeignKeyConstraint(['claim_id'], ['claims.id'], name=op.f('fk_remedy_checkins_claim_id_claims')),
    sa.ForeignKeyConstraint(
        ['follow_up_closed_by'], ['officers.id'], name=op.f('fk_remedy_checkins_follow_up_closed_by_officers')
    ),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_remedy_checkins')),
    sa.UniqueConstraint('claim_id', 'months', name='uq_remedy_checkins_claim_months'),
    sa.UniqueConstraint('message_id', name=op.f('uq_remedy_checkins_message_id')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_remedy_checkins_token_hash'))
    )
    with op.batch_alter_table('remedy_checkins', schema=None) as batch_op:
        batch_op.create_index(
            'ix_remedy_checkins_follow_up', ['follow_up_closed_at', 'follow_up_due_on'], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table('remedy_checkins', schema=None) as batch_op:
        batch_op.drop_index('ix_remedy_checkins_follow_up')
    op.drop_table('remedy_checkins')
