"""Need-to-know access: panel seats with the days they start and end, the day an account's access ends, a case's lead practitioner per agency, the
person an action is assigned to with each settling of an action kept as an entry, and the reason a referral is
dated far back; and emergency (break-glass) openings of cases with their reviews.

Seats already held start on the day of the migration and have no end: they give what they gave before.

Revision ID: 5b1e0c9d2a47
Revises: 73e44ff024c9
Create Date: 2026-12-03 17:10:00

"""
from datetime import date

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5b1e0c9d2a47'
down_revision = '73e44ff024c9'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.add_column(sa.Column('starts_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('ends_on', sa.Date(), nullable=True))
    memberships = sa.table('memberships', sa.column('starts_on', sa.Date()))
    op.get_bind().execute(memberships.update().values(starts_on=date.today()))
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.alter_column('starts_on', existing_type=sa.Date(), nullable=False)

    op.create_table('case_leads',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('named_by_id', sa.Integer(), nullable=False),
    sa.Column('named_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_case_leads_agency_id_agencies')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_leads_case_id_cases')),
    sa.ForeignKeyConstraint(['named_by_id'], ['users.id'], name=op.f('fk_case_leads_named_by_id_users')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_case_leads_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_leads')),
    sa.UniqueConstraint('case_id', 'agency_id', name=op.f('uq_case_leads_case_id'))
    )
    with op.batch_alter_table('case_leads', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_leads_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('actions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('assignee_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_actions_assignee_id'), ['assignee_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_actions_assignee_id_users'), 'users', ['assignee_id'], ['id'])

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('backdating_reason_ct', sa.Text(), nullable=True))

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('access_ends_on', sa.Date(), nullable=True))

    op.create_table('action_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uid', sa.String(length=36), nullable=False),
    sa.Column('action_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('completed_on', sa.Date(), nullable=True),
    sa.Column('outcome_ct', sa.Text(), nullable=True),
    sa.Column('is_correction', sa.Boolean(), nullable=False),
    sa.Column('by_id', sa.Integer(), nullable=True),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['action_id'], ['actions.id'], name=op.f('fk_action_entries_action_id_actions')),
    sa.ForeignKeyConstraint(['by_id'], ['users.id'], name=op.f('fk_action_entries_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_action_entries')),
    sa.UniqueConstraint('uid', name=op.f('uq_action_entries_uid'))
    )
    with op.batch_alter_table('action_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_action_entries_action_id'), ['action_id'], unique=False)

    op.create_table('emergency_accesses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uid', sa.String(length=36), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('reason_ct', sa.Text(), nullable=True),
    sa.Column('opened_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('reviewed_by_id', sa.Integer(), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=True),
    sa.Column('review_note_ct', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_emergency_accesses_case_id_cases')),
    sa.ForeignKeyConstraint(['reviewed_by_id'], ['users.id'], name=op.f('fk_emergency_accesses_reviewed_by_id_users')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_emergency_accesses_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_emergency_accesses')),
    sa.UniqueConstraint('uid', name=op.f('uq_emergency_accesses_uid'))
    )
    with op.batch_alter_table('emergency_accesses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_emergency_accesses_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_emergency_accesses_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('emergency_accesses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_emergency_accesses_user_id'))
        batch_op.drop_index(batch_op.f('ix_emergency_accesses_case_id'))
    op.drop_table('emergency_accesses')
    with op.batch_alter_table('action_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_action_entries_action_id'))
    op.drop_table('action_entries')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('access_ends_on')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('backdating_reason_ct')
    with op.batch_alter_table('actions', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_actions_assignee_id_users'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_actions_assignee_id'))
        batch_op.drop_column('assignee_id')
    with op.batch_alter_table('case_leads', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_leads_user_id'))
    op.drop_table('case_leads')
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.drop_column('ends_on')
        batch_op.drop_column('starts_on')
