"""A blind index per use (matching at intake, repeat history, search), each value carrying its key id.

The one ``subjects.match_index`` served every use under the purpose ``subject-match`` and carried no key id. Its
values are kept: they are copied into each of the three new columns, marked with the key id ``b1/subject-match``
(made under key b1, the id the old single-key BLIND_INDEX_KEY now has, for the old shared purpose), which lookups
still compute while key b1 is configured, so nobody is missed after the upgrade. The migration needs no key:
``flask keys rotate-index`` then recomputes every subject's three values under the current key, each purpose with
its own derived key, in batches.

Downgrading puts the migrated values back; values computed by ``keys rotate-index`` cannot be turned back into the
old form without the key, so those subjects lose their index (their rows are kept).

Revision ID: b7c2e91d4f06
Revises: 5b1e0c9d2a47
Create Date: 2026-12-03 17:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7c2e91d4f06'
down_revision = '5b1e0c9d2a47'
branch_labels = None
depends_on = None

LEGACY = 'b1/subject-match:'
COLUMNS = ('matching_index', 'repeat_index', 'search_index')


def upgrade():
    with op.batch_alter_table('subjects', schema=None) as batch_op:
        for column in COLUMNS:
            batch_op.add_column(sa.Column(column, sa.String(length=96), nullable=True))
            batch_op.create_index(batch_op.f(f'ix_subjects_{column}'), [column], unique=False)
    subjects = sa.table('subjects', sa.column('match_index', sa.String()),
                        *(sa.column(column, sa.String()) for column in COLUMNS))
    legacy = sa.literal(LEGACY, sa.String()) + subjects.c.match_index
    op.get_bind().execute(subjects.update().where(subjects.c.match_index.is_not(None))
                          .values({column: legacy for column in COLUMNS}))
    with op.batch_alter_table('subjects', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_subjects_match_index'))
        batch_op.drop_column('match_index')


def downgrade():
    with op.batch_alter_table('subjects', schema=None) as batch_op:
        batch_op.add_column(sa.Column('match_index', sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f('ix_subjects_match_index'), ['match_index'], unique=False)
    subjects = sa.table('subjects', sa.column('match_index', sa.String()), sa.column('matching_index', sa.String()))
    legacy = subjects.c.matching_index
    op.get_bind().execute(subjects.update()
                          .where(sa.func.substr(legacy, 1, len(LEGACY)) == LEGACY)
                          .values(match_index=sa.func.substr(legacy, len(LEGACY) + 1)))
    with op.batch_alter_table('subjects', schema=None) as batch_op:
        for column in reversed(COLUMNS):
            batch_op.drop_index(batch_op.f(f'ix_subjects_{column}'))
            batch_op.drop_column(column)
