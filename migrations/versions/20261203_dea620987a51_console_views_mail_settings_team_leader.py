"""The rebuilt console's data: officers' saved queue filters, the kinds of e-mail each officer
turned off, the team leader role, and messages to a team's shared address in the outbox.

Downgrading drops the saved filters and the e-mail choices, takes the team leader role away
(an officer who held only it is left with no role: an admin gives them one), and deletes the
messages to a team's address, which the older outbox cannot hold.

Revision ID: dea620987a51
Revises: 675ae8d1e535
Create Date: 2026-12-03 10:30:00

"""
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'dea620987a51'
down_revision = '675ae8d1e535'
branch_labels = None
depends_on = None

OLD_ROLES = "role IN ('triage', 'reviewer', 'appeal_panel', 'admin')"
NEW_ROLES = "role IN ('triage', 'reviewer', 'appeal_panel', 'admin', 'team_leader')"
OLD_RECIPIENTS = "recipient_type IN ('group', 'officer')"
NEW_RECIPIENTS = "recipient_type IN ('group', 'officer', 'team')"
KINDS = (
    "kind IN ('assignments', 'group_replies', 'appeals', 'withdrawals', 'daily_digest', 'new_claims_digest')"
)



@contextmanager
def _batch(table: str) -> Iterator[object]:
    """A batch alteration (SQLite copies the table). Reflecting the outbox reflects the claims it
    refers to, whose expression index (the queue's due order) SQLAlchemy cannot read and says so:
    that table is not copied, so the warning is noise here."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Skipped unsupported reflection of expression-based index")
        with op.batch_alter_table(table, schema=None) as batch_op:
            yield batch_op


def upgrade() -> None:
    op.create_table('saved_filters',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('officer_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('name_key', sa.String(length=180), nullable=False),
    sa.Column('args', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['officer_id'], ['officers.id'], name=op.f('fk_saved_filters_officer_id_officers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_saved_filters')),
    sa.UniqueConstraint('officer_id', 'name_key', name='uq_saved_filters_officer_id_name_key')
    )
    op.create_table('mail_opt_outs',
    sa.Column('officer_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.CheckConstraint(KINDS, name=op.f('ck_mail_opt_outs_kind_valid')),
    sa.ForeignKeyConstraint(['officer_id'], ['officers.id'], name=op.f('fk_mail_opt_outs_officer_id_officers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('officer_id', 'kind', name=op.f('pk_mail_opt_outs'))
    )
    with _batch('officer_roles') as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_officer_roles_role_valid'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_officer_roles_role_valid'), NEW_ROLES)
    with _batch('outbox') as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_outbox_recipient_type_valid'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_outbox_recipient_type_valid'), NEW_RECIPIENTS)


def downgrade() -> None:
    op.execute("DELETE FROM outbox WHERE recipient_type = 'team'")
    with _batch('outbox') as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_outbox_recipient_type_valid'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_outbox_recipient_type_valid'), OLD_RECIPIENTS)
    op.execute("DELETE FROM officer_roles WHERE role = 'team_leader'")
    with _batch('officer_roles') as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_officer_roles_role_valid'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_officer_roles_role_valid'), OLD_ROLES)
    op.drop_table('mail_opt_outs')
    op.drop_table('saved_filters')
