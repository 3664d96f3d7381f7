"""The register of statistics releases: append-only on PostgreSQL.

Revision ID: 9e6b2f0c7a14
Revises: 4f2a8c1d9e37
Create Date: 2026-11-23 02:30:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '9e6b2f0c7a14'
down_revision = '4f2a8c1d9e37'
branch_labels = None
depends_on = None

APPEND_ONLY = [
    """
CREATE FUNCTION statistics_releases_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'statistics_releases is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$
""",
    "CREATE TRIGGER statistics_releases_no_update_delete BEFORE UPDATE OR DELETE ON statistics_releases "
    "FOR EACH ROW EXECUTE FUNCTION statistics_releases_append_only()",
    "CREATE TRIGGER statistics_releases_no_truncate BEFORE TRUNCATE ON statistics_releases "
    "FOR EACH STATEMENT EXECUTE FUNCTION statistics_releases_append_only()",
]


def upgrade() -> None:
    op.create_table(
        'statistics_releases',
        sa.Column('number', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('published_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('period_start', sa.Date(), nullable=False),
        sa.Column('period_end', sa.Date(), nullable=False),
        sa.Column('method', sa.String(length=32), nullable=False),
        sa.Column('document', sa.LargeBinary(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.CheckConstraint(
            "method IN ('disclosure_control', 'differential_privacy')",
            name=op.f('ck_statistics_releases_method_valid'),
        ),
        sa.CheckConstraint('number >= 1', name=op.f('ck_statistics_releases_number_positive')),
        sa.PrimaryKeyConstraint('number', name=op.f('pk_statistics_releases')),
        sa.UniqueConstraint('sha256', name=op.f('uq_statistics_releases_sha256')),
    )
    if op.get_bind().dialect.name == 'postgresql':
        for statement in APPEND_ONLY:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP TRIGGER IF EXISTS statistics_releases_no_truncate ON statistics_releases')
        op.execute('DROP TRIGGER IF EXISTS statistics_releases_no_update_delete ON statistics_releases')
        op.execute('DROP FUNCTION IF EXISTS statistics_releases_append_only()')
    op.drop_table('statistics_releases')
