"""The open register of decisions (issue 20): decision statements and their citations; whether the
group agreed to a statement being published (claims.consent_publish, false for claims filed
before it was asked); each catalogue entry's public address (regulations.slug, made from its
title) and how to challenge it with the body that issued it (regulations.challenge_route).

Downgrading drops the register and the two columns: published statements are lost with it.

Revision ID: 72f7fe40a396
Revises: b2d8e4f61a93
Create Date: 2026-12-03 17:01:39.147559

"""
import re
import unicodedata

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '72f7fe40a396'
down_revision = 'b2d8e4f61a93'
branch_labels = None
depends_on = None


def _slugify(title: str) -> str:
    """As guarantee.models.regulation.slugify was when this was written."""
    plain = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    words = re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-")
    return words[:64].rstrip("-") or "regulation"


def _backfill_slugs() -> None:
    connection = op.get_bind()
    regulations = sa.table("regulations", sa.column("id", sa.Integer), sa.column("title", sa.String), sa.column("slug", sa.String))
    taken: set[str] = set()
    for row in connection.execute(sa.select(regulations.c.id, regulations.c.title).order_by(regulations.c.id)).all():
        base = slug = _slugify(row.title)
        n = 2
        while slug in taken:
            slug, n = f"{base}-{n}", n + 1
        taken.add(slug)
        connection.execute(regulations.update().where(regulations.c.id == row.id).values(slug=slug))


def upgrade() -> None:
    op.create_table('decision_statements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=16), nullable=True),
    sa.Column('claim_id', sa.Integer(), nullable=False),
    sa.Column('decision', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('summary', sa.Text(), nullable=True),
    sa.Column('drafted_by_id', sa.Integer(), nullable=True),
    sa.Column('drafted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('edited_by_id', sa.Integer(), nullable=True),
    sa.Column('approved_by_id', sa.Integer(), nullable=True),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('withdrawn_by_id', sa.Integer(), nullable=True),
    sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('withdrawn_reason', sa.Text(), nullable=True),
    sa.Column('superseded_by_id', sa.Integer(), nullable=True),
    sa.Column('consent', sa.Boolean(), nullable=False),
    sa.Column('regulation_id', sa.Integer(), nullable=True),
    sa.Column('category', sa.String(length=64), nullable=True),
    sa.Column('sector', sa.String(length=64), nullable=True),
    sa.Column('region', sa.String(length=64), nullable=True),
    sa.Column('decided_on', sa.Date(), nullable=True),
    sa.Column('working_days', sa.Integer(), nullable=True),
    sa.Column('remedy', sa.String(length=32), nullable=True),
    sa.Column('reason_code', sa.String(length=64), nullable=True),
    sa.Column('resolution', sa.String(length=64), nullable=True),
    sa.CheckConstraint("category IN ('health_and_safety', 'safeguarding_and_vetting', 'insurance_and_liability', 'licensing_and_permits', 'data_protection_and_information_sharing', 'procurement_and_commissioning', 'planning_and_premises', 'financial_rules_and_benefits', 'professional_standards_and_qualifications', 'food_hygiene', 'other')", name=op.f('ck_decision_statements_category_valid')),
    sa.CheckConstraint("decision IN ('upheld', 'not_upheld', 'appeal_allowed', 'appeal_dismissed')", name=op.f('ck_decision_statements_decision_valid')),
    sa.CheckConstraint("reason_code IN ('out_of_scope', 'duplicate', 'not_a_regulatory_barrier', 'no_regulatory_barrier_found', 'regulation_necessary_and_proportionate', 'outside_council_powers', 'insufficient_information', 'other')", name=op.f('ck_decision_statements_reason_code_valid')),
    sa.CheckConstraint("region IN ('north_east', 'north_west', 'yorkshire_and_the_humber', 'east_midlands', 'west_midlands', 'east_of_england', 'london', 'south_east', 'south_west', 'wales', 'scotland', 'northern_ireland')", name=op.f('ck_decision_statements_region_valid')),
    sa.CheckConstraint("remedy IN ('waiver', 'guidance_clarified', 'regulation_amendment', 'referral_to_national_body', 'other')", name=op.f('ck_decision_statements_remedy_valid')),
    sa.CheckConstraint("resolution IN ('waiver_granted', 'guidance_clarified', 'regulation_amended', 'referred_to_national_body', 'remedy_not_implemented')", name=op.f('ck_decision_statements_resolution_valid')),
    sa.CheckConstraint("sector IN ('health', 'social_care', 'education', 'children_and_families', 'housing', 'criminal_justice', 'employment_and_welfare', 'environment', 'community_safety', 'culture_and_leisure', 'other')", name=op.f('ck_decision_statements_sector_valid')),
    sa.CheckConstraint("status = 'awaiting_approval' OR number IS NOT NULL", name=op.f('ck_decision_statements_public_has_number')),
    sa.CheckConstraint("status IN ('awaiting_approval', 'published', 'withdrawn', 'superseded')", name=op.f('ck_decision_statements_status_valid')),
    sa.CheckConstraint('working_days IS NULL OR working_days >= 0', name=op.f('ck_decision_statements_working_days_positive')),
    sa.ForeignKeyConstraint(['approved_by_id'], ['officers.id'], name=op.f('fk_decision_statements_approved_by_id_officers')),
    sa.ForeignKeyConstraint(['claim_id'], ['claims.id'], name=op.f('fk_decision_statements_claim_id_claims')),
    sa.ForeignKeyConstraint(['drafted_by_id'], ['officers.id'], name=op.f('fk_decision_statements_drafted_by_id_officers')),
    sa.ForeignKeyConstraint(['edited_by_id'], ['officers.id'], name=op.f('fk_decision_statements_edited_by_id_officers')),
    sa.ForeignKeyConstraint(['regulation_id'], ['regulations.id'], name=op.f('fk_decision_statements_regulation_id_regulations')),
    sa.ForeignKeyConstraint(['superseded_by_id'], ['decision_statements.id'], name=op.f('fk_decision_statements_superseded_by_id_decision_statements')),
    sa.ForeignKeyConstraint(['withdrawn_by_id'], ['officers.id'], name=op.f('fk_decision_statements_withdrawn_by_id_officers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_decision_statements')),
    sa.UniqueConstraint('number', name=op.f('uq_decision_statements_number'))
    )
    with op.batch_alter_table('decision_statements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_decision_statements_claim_id'), ['claim_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_decision_statements_regulation_id'), ['regulation_id'], unique=False)
        batch_op.create_index('ix_decision_statements_status_number', ['status', 'number'], unique=False)

    op.create_table('statement_citations',
    sa.Column('statement_id', sa.Integer(), nullable=False),
    sa.Column('cited_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['cited_id'], ['decision_statements.id'], name=op.f('fk_statement_citations_cited_id_decision_statements')),
    sa.ForeignKeyConstraint(['statement_id'], ['decision_statements.id'], name=op.f('fk_statement_citations_statement_id_decision_statements')),
    sa.PrimaryKeyConstraint('statement_id', 'cited_id', name=op.f('pk_statement_citations'))
    )
    # Not in batch mode: on SQLite that would copy the claims table and lose its expression index.
    op.add_column('claims', sa.Column('consent_publish', sa.Boolean(), server_default=sa.false(), nullable=False))

    with op.batch_alter_table('regulations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('slug', sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column('challenge_route', sa.Text(), nullable=True))
    _backfill_slugs()
    with op.batch_alter_table('regulations', schema=None) as batch_op:
        batch_op.alter_column('slug', existing_type=sa.String(length=80), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_regulations_slug'), ['slug'])



def downgrade() -> None:
    with op.batch_alter_table('regulations', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_regulations_slug'), type_='unique')
        batch_op.drop_column('challenge_route')
        batch_op.drop_column('slug')

    op.drop_column('claims', 'consent_publish')

    op.drop_table('statement_citations')
    with op.batch_alter_table('decision_statements', schema=None) as batch_op:
        batch_op.drop_index('ix_decision_statements_status_number')
        batch_op.drop_index(batch_op.f('ix_decision_statements_regulation_id'))
        batch_op.drop_index(batch_op.f('ix_decision_statements_claim_id'))

    op.drop_table('decision_statements')
