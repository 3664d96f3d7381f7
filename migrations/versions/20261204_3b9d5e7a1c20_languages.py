"""The language a group chose to be written to in (issue 23): every e-mail to the group is in it.

Claims filed before this are in English, as their e-mails were.

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


def upgrade() -> None:
    # A column CHECK, added with the column (SQLite cannot add a table constraint in place, and
    # copying the claims table would lose its expression index's reflection).
    op.add_column(
        'claims',
        sa.Column(
            'language',
            sa.String(length=2),
            sa.CheckConstraint("language IN ('en', 'cy')", name='ck_claims_language_valid'),
            server_default='en',
            nullable=False,
        ),
    )


def downgrade() -> None:
    op.drop_column('claims', 'language')
