"""The language each reader is written to in (issue 23): the one a group chose on its claim, and
the one a follower of a rule asked in. Every e-mail to them is in it.

Claims filed and rules followed before this are in English, as their e-mails were.

Revision ID: 3b9d5e7a1c20
Revises: f2c6a8e1d4b7
Create Date: 2026-12-04 18:20:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '3b9d5e7a1c20'
down_revision = 'f2c6a8e1d4b7'
branch_labels = None
depends_on = None


TABLES = ('claims', 'rule_subscriptions')


def upgrade() -> None:
    # A column CHECK, added with the column (SQLite cannot add a table constraint in place, and
    # copying the claims table would lose its expression index's reflection).
    for table in TABLES:
        op.add_column(
            table,
            sa.Column(
                'language',
                sa.String(length=2),
                sa.CheckConstraint("language IN ('en', 'cy')", name=f'ck_{table}_language_valid'),
                server_default='en',
                nullable=False,
            ),
        )


def downgrade() -> None:
    for table in TABLES:
        op.drop_column(table, 'language')
