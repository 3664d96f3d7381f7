"""The admin log: officer_events becomes admin_events, one hash chain of the console's changes
outside any claim (officer accounts, the regulation catalogue), append-only.

Existing officer events are copied in id order and chained; the hash is computed here, with
the same canonical JSON as guarantee.services.audit, so that this migration stands alone.

Revision ID: 7b3c9e1d4f60
Revises: 5d1e0b7c2f4a
Create Date: 2026-11-22 23:40:00

"""
import hashlib
import json
from datetime import UTC

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '7b3c9e1d4f60'
down_revision = '5d1e0b7c2f4a'
branch_labels = None
depends_on = None

GENESIS_HASH = "0" * 64


def _append_only(table: str) -> list[str]:
    return [
        f"""
CREATE FUNCTION {table}_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '{table} is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$
""",
        f"CREATE TRIGGER {table}_no_update_delete BEFORE UPDATE OR DELETE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION {table}_append_only()",
        f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {table}_append_only()",
    ]


def _drop_append_only(table: str) -> list[str]:
    return [
        f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}",
        f"DROP TRIGGER IF EXISTS {table}_no_update_delete ON {table}",
        f"DROP FUNCTION IF EXISTS {table}_append_only()",
    ]


def _utc(value):
    return (value.replace(tzinfo=UTC) if value.tzinfo is None else value).astimezone(UTC)


def _hash(prev_hash: str, row: dict) -> str:
    document = {
        "log": "admin",
        "seq": row["seq"],
        "occurred_at": _utc(row["occurred_at"]).isoformat(timespec="microseconds"),
        "actor_id": row["actor_id"],
        "officer_id": row["officer_id"],
        "regulation_id": row["regulation_id"],
        "action": row["action"],
        "payload": row["payload"],
    }
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    return hashlib.sha256(prev_hash.encode() + canonical).hexdigest()


def upgrade() -> None:
    bind = op.get_bind()
    admin_events = op.create_table('admin_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('officer_id', sa.Integer(), nullable=True),
    sa.Column('regulation_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['officers.id'], name=op.f('fk_admin_events_actor_id_officers')),
    sa.ForeignKeyConstraint(['officer_id'], ['officers.id'], name=op.f('fk_admin_events_officer_id_officers')),
    sa.ForeignKeyConstraint(['regulation_id'], ['regulations.id'], name=op.f('fk_admin_events_regulation_id_regulations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_admin_events')),
    sa.UniqueConstraint('seq', name='uq_admin_events_seq')
    )
    with op.batch_alter_table('admin_events', schema=None) as batch_op:
        batch_op.create_index('ix_admin_events_officer_id', ['officer_id'], unique=False)
        batch_op.create_index('ix_admin_events_regulation_id', ['regulation_id'], unique=False)

    old = sa.table(
        'officer_events',
        sa.column('id', sa.Integer()),
        sa.column('occurred_at', sa.DateTime(timezone=True)),
        sa.column('actor_id', sa.Integer()),
        sa.column('officer_id', sa.Integer()),
        sa.column('action', sa.String()),
        sa.column('payload', sa.JSON()),
    )
    prev_hash, rows = GENESIS_HASH, []
    for seq, event in enumerate(bind.execute(sa.select(old).order_by(old.c.id)).mappings(), start=1):
        row = {**event, "id": seq, "seq": seq, "regulation_id": None, "prev_hash": prev_hash}
        row["hash"] = prev_hash = _hash(prev_hash, row)
        rows.append(row)
    if rows:
        op.bulk_insert(admin_events, rows)

    if bind.dialect.name == "postgresql":
        for statement in _drop_append_only('officer_events'):
            op.execute(statement)
        op.execute("SELECT setval(pg_get_serial_sequence('admin_events', 'id'), GREATEST(MAX(id), 1)) FROM admin_events")
        for statement in _append_only('admin_events'):
            op.execute(statement)
    with op.batch_alter_table('officer_events', schema=None) as batch_op:
        batch_op.drop_index('ix_officer_events_officer_id')
    op.drop_table('officer_events')


def downgrade() -> None:
    bind = op.get_bind()
    officer_events = op.create_table('officer_events',
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
    new = sa.table(
        'admin_events',
        sa.column('seq', sa.Integer()),
        sa.column('occurred_at', sa.DateTime(timezone=True)),
        sa.column('actor_id', sa.Integer()),
        sa.column('officer_id', sa.Integer()),
        sa.column('action', sa.String()),
        sa.column('payload', sa.JSON()),
    )
    # Catalogue events had no place before the admin log; only the account events go back.
    rows = [
        {"id": event["seq"], **{k: event[k] for k in ("occurred_at", "actor_id", "officer_id", "action", "payload")}}
        for event in bind.execute(
            sa.select(new).where(new.c.officer_id.is_not(None)).order_by(new.c.seq)
        ).mappings()
    ]
    if rows:
        op.bulk_insert(officer_events, rows)
    if bind.dialect.name == "postgresql":
        for statement in _drop_append_only('admin_events'):
            op.execute(statement)
        op.execute("SELECT setval(pg_get_serial_sequence('officer_events', 'id'), GREATEST(MAX(id), 1)) FROM officer_events")
        for statement in _append_only('officer_events'):
            op.execute(statement)
    with op.batch_alter_table('admin_events', schema=None) as batch_op:
        batch_op.drop_index('ix_admin_events_regulation_id')
        batch_op.drop_index('ix_admin_events_officer_id')
    op.drop_table('admin_events')
