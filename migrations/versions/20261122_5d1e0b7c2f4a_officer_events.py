"""What administrators did to officer accounts, append-only.

Revision ID: 5d1e0b7c2f4a
Revises: a9cea8c44a01
Create Date: 2026-11-22 22:30:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '5d1e0b7c2f4a'
down_revision = 'a9cea8c44a01'
branch_labels = None
depends_on = None

APPEND_ONLY_FUNCTION = """
CREATE FUNCTION officer_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'officer_events is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$
"""


def upgrade() -> None:
    op.create_table('officer_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('officer_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['officers.id'], name=op.f('fk_officer_events_actor_id_officers')),
    sa.ForeignKeyConstraint(['officer_id'], ['officers.id'], name=op.f('fk_officer_events_officer_id_officers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_officer_events'))
    )
    with op.batch_alter_table('officer_events', schema=None) as batch_op:
        batch_op.create_index('ix_officer_events_officer_id', ['officer_id'], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(APPEND_ONLY_FUNCTION)
        op.execute(
            "CREATE TRIGGER officer_events_no_update_delete BEFORE UPDATE OR DELETE ON officer_events "
            "FOR EACH ROW EXECUTE FUNCTION officer_events_append_only()"
        )
        op.execute(
            "CREATE TRIGGER officer_events_no_truncate BEFORE TRUNCATE ON officer_events "
            "FOR EACH STATEMENT EXECUTE FUNCTION officer_events_append_only()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS officer_events_no_truncate ON officer_events")
        op.execute("DROP TRIGGER IF EXISTS officer_events_no_update_delete ON officer_events")
        op.execute("DROP FUNCTION IF EXISTS officer_events_append_only()")
    with op.batch_alter_table('officer_events', schema=None) as batch_op:
        batch_op.drop_index('ix_officer_events_officer_id')
    op.drop_table('officer_events')
