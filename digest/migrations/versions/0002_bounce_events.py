"""bounce events: what the return mailbox and ESP webhooks said about each delivery

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-05
"""
from alembic import op
import sqlalchemy as sa

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('bounceevent',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_key', sa.String(length=400), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('subscriber_id', sa.Integer(), nullable=True),
    sa.Column('issue_number', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['subscriber_id'], ['subscriber.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('event_key')
    )
    with op.batch_alter_table('bounceevent', schema=None) as batch_op:
        batch_op.create_index('ix_bounceevent_subscriber_created', ['subscriber_id', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_bounceevent_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_bounceevent_issue_number'), ['issue_number'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('bounceevent', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bounceevent_issue_number'))
        batch_op.drop_index(batch_op.f('ix_bounceevent_kind'))
        batch_op.drop_index('ix_bounceevent_subscriber_created')
    op.drop_table('bounceevent')
