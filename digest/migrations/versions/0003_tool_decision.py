"""tool decision: launch or not, the reason, and the editor's override

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05
"""
from alembic import op
import sqlalchemy as sa

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # tools stored before launch detection stay visible: they were all shown until now
    with op.batch_alter_table('tool', schema=None) as batch_op:
        batch_op.add_column(sa.Column('launch', sa.Boolean(), nullable=False, server_default=sa.true()))
        batch_op.add_column(sa.Column('reason', sa.String(length=200), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('override', sa.String(length=10), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('tool', schema=None) as batch_op:
        batch_op.drop_column('override')
        batch_op.drop_column('reason')
        batch_op.drop_column('launch')
