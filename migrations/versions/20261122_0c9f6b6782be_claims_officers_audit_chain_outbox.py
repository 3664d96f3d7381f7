"""Claims, contacts, tracking tokens, clocks, regulations, officers, the audit chain and the outbox.

On PostgreSQL a trigger makes audit_events append-only: UPDATE, DELETE and TRUNCATE are refused.

Revision ID: 0c9f6b6782be
Revises: 
Create Date: 2026-11-22 18:33:39.281672

"""
import sqlalchemy as sa
from alembic import op

APPEND_ONLY_FUNCTION = """
CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$
"""


# revision identifiers, used by Alembic.
revision = '0c9f6b6782be'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('officers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('session_nonce', sa.String(length=64), nullable=False),
    sa.Column('must_change_password', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_officers')),
    sa.UniqueConstraint('email', name=op.f('uq_officers_email'))
    )
    op.create_table('reference_counters',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('last', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('year', name=op.f('pk_reference_counters'))
    )
    op.create_table('regulations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('legal_reference', sa.String(length=300), nullable=True),
    sa.Column('issuing_body', sa.String(length=200), nullable=True),
    sa.Column('category', sa.String(length=64), nullable=False),
    sa.Column('merged_into_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("category IN ('health_and_safety', 'safeguarding_and_vetting', 'insurance_and_liability', 'licensing_and_permits', 'data_protection_and_information_sharing', 'procurement_and_commissioning', 'planning_and_premises', 'financial_rules_and_benefits', 'professional_standards_and_qualifications', 'food_hygiene', 'other')", name=op.f('ck_regulations_category_valid')),
    sa.ForeignKeyConstraint(['merged_into_id'], ['regulations.id'], name=op.f('fk_regulations_merged_into_id_regulations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_regulations'))
    )
    op.create_table('claims',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=16), nullable=False),
    sa.Column('state', sa.String(length=32), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('group_name', sa.String(length=200), nullable=False),
    sa.Column('initiative_title', sa.String(length=200), nullable=False),
    sa.Column('initiative_description', sa.Text(), nullable=False),
    sa.Column('sector', sa.String(length=64), nullable=False),
    sa.Column('region', sa.String(length=64), nullable=False),
    sa.Column('people_involved', sa.Integer(), nullable=True),
    sa.Column('barrier_regulation', sa.String(length=300), nullable=False),
    sa.Column('barrier_regulation_reference', sa.String(length=300), nullable=True),
    sa.Column('barrier_imposed_by', sa.String(length=200), nullable=False),
    sa.Column('barrier_category', sa.String(length=64), nullable=False),
    sa.Column('barrier_how_it_blocks', sa.Text(), nullable=False),
    sa.Column('remedy_sought', sa.String(length=32), nullable=False),
    sa.Column('remedy_details', sa.Text(), nullable=True),
    sa.Column('consent_contact', sa.Boolean(), nullable=False),
    sa.Column('category', sa.String(length=64), nullable=True),
    sa.Column('regulation_id', sa.Integer(), nullable=True),
    sa.Column('assignee_id', sa.Integer(), nullable=True),
    sa.Column('due_clock', sa.String(length=32), nullable=True),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('remedy', sa.String(length=32), nullable=True),
    sa.Column('reason_code', sa.String(length=64), nullable=True),
    sa.Column('duplicate_of_id', sa.Integer(), nullable=True),
    sa.Column('outcome', sa.String(length=64), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("barrier_category IN ('health_and_safety', 'safeguarding_and_vetting', 'insurance_and_liability', 'licensing_and_permits', 'data_protection_and_information_sharing', 'procurement_and_commissioning', 'planning_and_premises', 'financial_rules_and_benefits', 'professional_standards_and_qualifications', 'food_hygiene', 'other')", name=op.f('ck_claims_barrier_category_valid')),
    sa.CheckConstraint("category IN ('health_and_safety', 'safeguarding_and_vetting', 'insurance_and_liability', 'licensing_and_permits', 'data_protection_and_information_sharing', 'procurement_and_commissioning', 'planning_and_premises', 'financial_rules_and_benefits', 'professional_standards_and_qualifications', 'food_hygiene', 'other')", name=op.f('ck_claims_category_valid')),
    sa.CheckConstraint("due_clock IN ('triage', 'decision', 'information', 'appeal_window', 'appeal_decision', 'resolution')", name=op.f('ck_claims_due_clock_valid')),
    sa.CheckConstraint("outcome IN ('waiver_granted', 'guidance_clarified', 'regulation_amended', 'referred_to_national_body', 'remedy_not_implemented', 'not_upheld', 'appeal_dismissed', 'declined', 'withdrawn', 'lapsed')", name=op.f('ck_claims_outcome_valid')),
    sa.CheckConstraint("reason_code IN ('out_of_scope', 'duplicate', 'not_a_regulatory_barrier', 'no_regulatory_barrier_found', 'regulation_necessary_and_proportionate', 'outside_council_powers', 'insufficient_information', 'other')", name=op.f('ck_claims_reason_code_valid')),
    sa.CheckConstraint("region IN ('north_east', 'north_west', 'yorkshire_and_the_humber', 'east_midlands', 'west_midlands', 'east_of_england', 'london', 'south_east', 'south_west', 'wales', 'scotland', 'northern_ireland')", name=op.f('ck_claims_region_valid')),
    sa.CheckConstraint("remedy IN ('waiver', 'guidance_clarified', 'regulation_amendment', 'referral_to_national_body', 'other')", name=op.f('ck_claims_remedy_valid')),
    sa.CheckConstraint("remedy_sought IN ('waiver', 'clarification', 'amendment', 'other')", name=op.f('ck_claims_remedy_sought_valid')),
    sa.CheckConstraint("sector IN ('health', 'social_care', 'education', 'children_and_families', 'housing', 'criminal_justice', 'employment_and_welfare', 'environment', 'community_safety', 'culture_and_leisure', 'other')", name=op.f('ck_claims_sector_valid')),
    sa.CheckConstraint("state IN ('submitted', 'under_review', 'awaiting_information', 'upheld', 'not_upheld', 'appealed', 'resolved', 'closed', 'withdrawn', 'lapsed')", name=op.f('ck_claims_state_valid')),
    sa.CheckConstraint('people_involved IS NULL OR people_involved >= 0', name=op.f('ck_claims_people_involved_positive')),
    sa.CheckConstraint('version >= 1', name=op.f('ck_claims_version_positive')),
    sa.ForeignKeyConstraint(['assignee_id'], ['officers.id'], name=op.f('fk_claims_assignee_id_officers')),
    sa.ForeignKeyConstraint(['duplicate_of_id'], ['claims.id'], name=op.f('fk_claims_duplicate_of_id_claims')),
    sa.ForeignKeyConstraint(['regulation_id'], ['regulations.id'], name=op.f('fk_claims_regulation_id_regulations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_claims')),
    sa.UniqueConstraint('reference', name=op.f('uq_claims_reference'))
    )
    with op.batch_alter_table('claims', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_claims_assignee_id'), ['assignee_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_claims_regulation_id'), ['regulation_id'], unique=False)
        batch_op.create_index('ix_claims_state_due_on', ['state', 'due_on'], unique=False)

    op.create_table('officer_roles',
    sa.Column('officer_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.CheckConstraint("role IN ('triage', 'reviewer', 'appeal_panel', 'admin')", name=op.f('ck_officer_roles_role_valid')),
    sa.ForeignKeyConstraint(['officer_id'], ['officers.id'], name=op.f('fk_officer_roles_officer_id_officers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('officer_id', 'role', name=op.f('pk_officer_roles'))
    )
    op.create_table('audit_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('claim_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_type', sa.String(length=16), nullable=False),
    sa.Column('actor_id', sa.String(length=64), nullable=True),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('from_state', sa.String(length=32), nullable=True),
    sa.Column('to_state', sa.String(length=32), nullable=True),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.CheckConstraint("actor_type IN ('officer', 'group', 'system')", name=op.f('ck_audit_events_actor_type_valid')),
    sa.ForeignKeyConstraint(['claim_id'], ['claims.id'], name=op.f('fk_audit_events_claim_id_claims')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events')),
    sa.UniqueConstraint('claim_id', 'seq', name='uq_audit_events_claim_seq')
    )
    op.create_table('claim_clocks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('claim_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('working_days', sa.Integer(), nullable=False),
    sa.Column('started_on', sa.Date(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('paused_on', sa.Date(), nullable=True),
    sa.Column('days_left', sa.Integer(), nullable=True),
    sa.Column('stopped_on', sa.Date(), nullable=True),
    sa.Column('working', sa.JSON(), nullable=False),
    sa.CheckConstraint("name IN ('triage', 'decision', 'information', 'appeal_window', 'appeal_decision', 'resolution')", name=op.f('ck_claim_clocks_name_valid')),
    sa.CheckConstraint("status IN ('running', 'paused', 'stopped')", name=op.f('ck_claim_clocks_status_valid')),
    sa.CheckConstraint('working_days > 0', name=op.f('ck_claim_clocks_working_days_positive')),
    sa.ForeignKeyConstraint(['claim_id'], ['claims.id'], name=op.f('fk_claim_clocks_claim_id_claims')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_claim_clocks')),
    sa.UniqueConstraint('claim_id', 'name', name='uq_claim_clocks_claim_name')
    )
    op.create_table('contacts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('claim_id', sa.Integer(), nullable=False),
    sa.Column('contact_name', sa.String(length=200), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('phone', sa.String(length=40), nullable=True),
    sa.Column('erased_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['claim_id'], ['claims.id'], name=op.f('fk_contacts_claim_id_claims')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contacts')),
    sa.UniqueConstraint('claim_id', name=op.f('uq_contacts_claim_id'))
    )
    op.create_table('outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.String(length=128), nullable=False),
    sa.Column('claim_id', sa.Integer(), nullable=True),
    sa.Column('recipient_type', sa.String(length=16), nullable=False),
    sa.Column('officer_id', sa.Integer(), nullable=True),
    sa.Column('template', sa.String(length=64), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.CheckConstraint("recipient_type IN ('group', 'officer')", name=op.f('ck_outbox_recipient_type_valid')),
    sa.CheckConstraint("status IN ('pending', 'sent', 'failed')", name=op.f('ck_outbox_status_valid')),
    sa.ForeignKeyConstraint(['claim_id'], ['claims.id'], name=op.f('fk_outbox_claim_id_claims')),
    sa.ForeignKeyConstraint(['officer_id'], ['officers.id'], name=op.f('fk_outbox_officer_id_officers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox')),
    sa.UniqueConstraint('message_id', name=op.f('uq_outbox_message_id'))
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_due', ['status', 'next_attempt_at'], unique=False)

    op.create_table('timeline_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('claim_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('field', sa.String(length=64), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('public', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['claim_id'], ['claims.id'], name=op.f('fk_timeline_entries_claim_id_claims')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_timeline_entries'))
    )
    with op.batch_alter_table('timeline_entries', schema=None) as batch_op:
        batch_op.create_index('ix_timeline_entries_claim_seq', ['claim_id', 'seq'], unique=False)

    op.create_table('tracking_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('claim_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['claim_id'], ['claims.id'], name=op.f('fk_tracking_tokens_claim_id_claims')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tracking_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_tracking_tokens_token_hash'))
    )
    with op.batch_alter_table('tracking_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tracking_tokens_claim_id'), ['claim_id'], unique=False)


    if op.get_bind().dialect.name == "postgresql":
        op.execute(APPEND_ONLY_FUNCTION)
        op.execute(
            "CREATE TRIGGER audit_events_no_update_delete BEFORE UPDATE OR DELETE ON audit_events "
            "FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()"
        )
        op.execute(
            "CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()"
        )

def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events")
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_update_delete ON audit_events")
        op.execute("DROP FUNCTION IF EXISTS audit_events_append_only()")
    with op.batch_alter_table('tracking_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tracking_tokens_claim_id'))

    op.drop_table('tracking_tokens')
    with op.batch_alter_table('timeline_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_timeline_entries_claim_seq')

    op.drop_table('timeline_entries')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_due')

    op.drop_table('outbox')
    op.drop_table('contacts')
    op.drop_table('claim_clocks')
    op.drop_table('audit_events')
    op.drop_table('officer_roles')
    with op.batch_alter_table('claims', schema=None) as batch_op:
        batch_op.drop_index('ix_claims_state_due_on')
        batch_op.drop_index(batch_op.f('ix_claims_regulation_id'))
        batch_op.drop_index(batch_op.f('ix_claims_assignee_id'))

    op.drop_table('claims')
    op.drop_table('regulations')
    op.drop_table('reference_counters')
    op.drop_table('officers')
