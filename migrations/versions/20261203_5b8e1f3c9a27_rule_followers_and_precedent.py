"""Following a rule by e-mail, and precedent when filing (issue 20, items 4 and 5): who follows
which catalogue entry (rule_subscriptions) with the hashes of the tokens in their e-mails
(rule_subscription_tokens); messages to a follower in the outbox (recipient type "follower",
outbox.subscription_id); and the catalogue entry the group chose when it filed
(claims.regulation_chosen_id), a suggestion for triage.

Downgrading drops the followers and the messages to them, which the older outbox cannot hold,
and forgets which entries groups chose.

Revision ID: 5b8e1f3c9a27
Revises: c7e3a9d51f28
Create Date: 2026-12-03 17:20:00

"""
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '5b8e1f3c9a27'
down_revision = 'c7e3a9d51f28'
branch_labels = None
depends_on = None

OLD_RECIPIENTS = "recipient_type IN ('group', 'officer', 'team')"
NEW_RECIPIENTS = "recipient_type IN ('group', 'officer', 'team', 'follower')"


@contextmanager
def _batch(table: str) -> Iterator[object]:
    """A batch alteration (SQLite copies the table); reflecting the outbox reflects the claims,
    whose expression index SQLAlchemy cannot read and says so (that table is not copied)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Skipped unsupported reflection of expression-based index")
        with op.batch_alter_table(table, schema=None) as batch_op:
            yield batch_op


def upgrade() -> None:
    op.create_table('rule_subscriptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('regulation_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('asked_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('told_until', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['regulation_id'], ['regulations.id'], name=op.f('fk_rule_subscriptions_regulation_id_regulations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rule_subscriptions')),
    sa.UniqueConstraint('regulation_id', 'email', name='uq_rule_subscriptions_rule_email')
    )
    with op.batch_alter_table('rule_subscriptions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rule_subscriptions_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_rule_subscriptions_regulation_id'), ['regulation_id'], unique=False)

    op.create_table('rule_subscription_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subscription_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.String(length=16), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("purpose IN ('confirm', 'unsubscribe')", name=op.f('ck_rule_subscription_tokens_purpose_valid')),
    sa.ForeignKeyConstraint(['subscription_id'], ['rule_subscriptions.id'], name=op.f('fk_rule_subscription_tokens_subscription_id_rule_subscriptions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rule_subscription_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_rule_subscription_tokens_token_hash'))
    )
    with op.batch_alter_table('rule_subscription_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rule_subscription_tokens_subscription_id'), ['subscription_id'], unique=False)

    with _batch('outbox') as batch_op:
        batch_op.add_column(sa.Column('subscription_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_outbox_subscription_id_rule_subscriptions'), 'rule_subscriptions', ['subscription_id'], ['id'], ondelete='SET NULL')
        batch_op.drop_constraint(batch_op.f('ck_outbox_recipient_type_valid'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_outbox_recipient_type_valid'), NEW_RECIPIENTS)

    # Not in batch mode: on SQLite that would copy the claims table and lose its expression index.
    # SQLite adds a column with its reference in one statement (it cannot add a constraint later).
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('ALTER TABLE claims ADD COLUMN regulation_chosen_id INTEGER REFERENCES regulations (id)')
    else:
        op.add_column('claims', sa.Column('regulation_chosen_id', sa.Integer(), nullable=True))
        op.create_foreign_key(op.f('fk_claims_regulation_chosen_id_regulations'), 'claims', 'regulations', ['regulation_chosen_id'], ['id'])


def downgrade() -> None:
    if op.get_bind().dialect.name != 'sqlite':
        op.drop_constraint(op.f('fk_claims_regulation_chosen_id_regulations'), 'claims', type_='foreignkey')
    op.drop_column('claims', 'regulation_chosen_id')
    op.execute("DELETE FROM outbox WHERE recipient_type = 'follower'")
    with _batch('outbox') as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_outbox_recipient_type_valid'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_outbox_recipient_type_valid'), OLD_RECIPIENTS)
        batch_op.drop_constraint(batch_op.f('fk_outbox_subscription_id_rule_subscriptions'), type_='foreignkey')
        batch_op.drop_column('subscription_id')
    with op.batch_alter_table('rule_subscription_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rule_subscription_tokens_subscription_id'))
    op.drop_table('rule_subscription_tokens')
    with op.batch_alter_table('rule_subscriptions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rule_subscriptions_regulation_id'))
        batch_op.drop_index(batch_op.f('ix_rule_subscriptions_expires_at'))
    op.drop_table('rule_subscriptions')
