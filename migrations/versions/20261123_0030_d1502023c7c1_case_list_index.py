"""Case list indexes: each branch of the access policy newest first; counts covered by the (panel, state) index.

Revision ID: d1502023c7c1
Revises: 28ff69b3c53d
Create Date: 2026-11-23 00:30:09.903226

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'd1502023c7c1'
down_revision = '28ff69b3c53d'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index('ix_cases_referred_on_id', ['referred_on', 'id'], unique=False)
        batch_op.drop_index('ix_cases_panel_state')
        batch_op.create_index('ix_cases_panel_state', ['panel', 'state', 'referrer_id', 'source_agency_id'],
                              unique=False)
        for column in ('referrer_id', 'source_agency_id'):
            batch_op.drop_index(f'ix_cases_{column}')
            batch_op.create_index(f'ix_cases_{column}', [column, 'referred_on'], unique=False)


def downgrade():
    with op.batch_alter_table('cases', schema=None) as batch_op:
        for column in ('referrer_id', 'source_agency_id'):
            batch_op.drop_index(f'ix_cases_{column}')
            batch_op.create_index(f'ix_cases_{column}', [column], unique=False)
        batch_op.drop_index('ix_cases_panel_state')
        batch_op.create_index('ix_cases_panel_state', ['panel', 'state'], unique=False)
        batch_op.drop_index('ix_cases_referred_on_id')
