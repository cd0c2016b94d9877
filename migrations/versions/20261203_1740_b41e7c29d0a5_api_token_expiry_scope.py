"""API tokens expire and have a scope: read or write, and the panels they reach.

Tokens already issued never expired and could do whatever their owner could: they are given an expiry 90 days from
this migration, and full scope (write, every panel), so nothing that uses one stops working today.

Revision ID: b41e7c29d0a5
Revises: b7c2e91d4f06
Create Date: 2026-12-03 17:30:00.000000

"""
from datetime import datetime, timedelta, timezone

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b41e7c29d0a5'
down_revision = 'b7c2e91d4f06'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('expires_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('can_write', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column('panels', sa.String(length=200), nullable=True))
    expiry = datetime.now(timezone.utc).replace(tzinfo=None) + timedelta(days=90)
    tokens = sa.table('api_tokens', sa.column('expires_at', sa.DateTime()))
    op.execute(tokens.update().where(tokens.c.expires_at.is_(None)).values(expires_at=expiry))
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.alter_column('expires_at', existing_type=sa.DateTime(), nullable=False)


def downgrade():
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_column('panels')
        batch_op.drop_column('can_write')
        batch_op.drop_column('expires_at')
