"""Single sign-on (issue 24): sign_in_domains, the e-mail domains whose staff may make themselves
an officer account (with no roles) by signing in through the council's identity provider.

Downgrading drops the table: accounts already made stay, and no new one can be made that way.

Revision ID: c9e5a1b3d7f2
Revises: b8d4f0a2c3e5
Create Date: 2026-12-04 21:50:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'c9e5a1b3d7f2'
down_revision = 'b8d4f0a2c3e5'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sign_in_domains',
    sa.Column('domain', sa.String(length=253), nullable=False),
    sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('added_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['added_by'], ['officers.id'], name=op.f('fk_sign_in_domains_added_by_officers')),
    sa.PrimaryKeyConstraint('domain', name=op.f('pk_sign_in_domains'))
    )


def downgrade() -> None:
    op.drop_table('sign_in_domains')
