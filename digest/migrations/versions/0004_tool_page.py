"""tool page: what the tool's landing page said (title, meta description, pricing link)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05
"""
from alembic import op
import sqlalchemy as sa

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('tool', schema=None) as batch_op:
        batch_op.add_column(sa.Column('page', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('enriched_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('tool', schema=None) as batch_op:
        batch_op.drop_column('enriched_at')
        batch_op.drop_column('page')
