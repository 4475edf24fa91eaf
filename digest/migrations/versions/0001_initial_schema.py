"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-29
"""
from alembic import op
import sqlalchemy as sa

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('counter',
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('value', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_table('discardedaction',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('client', sa.String(length=100), nullable=False),
    sa.Column('subscriber_id', sa.Integer(), nullable=True),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('feed',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('configured_url', sa.Text(), nullable=False),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('category', sa.String(length=100), nullable=True),
    sa.Column('etag', sa.Text(), nullable=True),
    sa.Column('last_modified', sa.String(length=100), nullable=True),
    sa.Column('last_status', sa.Integer(), nullable=True),
    sa.Column('last_polled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_success_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('next_poll_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('error_count', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('disabled', sa.Boolean(), nullable=False),
    sa.Column('disabled_reason', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('issue',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('preheader', sa.String(length=300), nullable=False),
    sa.Column('intro', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('scheduled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('queued_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('number')
    )
    with op.batch_alter_table('issue', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_issue_status'), ['status'], unique=False)

    op.create_table('jobrun',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job', sa.String(length=50), nullable=False),
    sa.Column('slot', sa.DateTime(timezone=True), nullable=False),
    sa.Column('holder', sa.String(length=200), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('job', 'slot', name='uq_jobrun_job_slot')
    )
    op.create_table('lease',
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('holder', sa.String(length=200), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_table('ratecount',
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('window_start', sa.Integer(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('key', 'window_start')
    )
    op.create_table('scannermark',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client', sa.String(length=100), nullable=False),
    sa.Column('marked_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('until', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('scannermark', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scannermark_client'), ['client'], unique=False)

    op.create_table('subscriber',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('email_key', sa.String(length=320), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('unsubscribed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('bounce_count', sa.Integer(), nullable=False),
    sa.Column('last_bounce', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('email_key')
    )
    with op.batch_alter_table('subscriber', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_subscriber_status'), ['status'], unique=False)

    op.create_table('suppression',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email_key', sa.String(length=320), nullable=False),
    sa.Column('reason', sa.String(length=50), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('email_key')
    )
    op.create_table('delivery',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('issue_id', sa.Integer(), nullable=False),
    sa.Column('subscriber_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('claimed_by', sa.String(length=100), nullable=True),
    sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('message_id', sa.String(length=300), nullable=True),
    sa.Column('queued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['issue_id'], ['issue.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['subscriber_id'], ['subscriber.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('issue_id', 'subscriber_id', name='uq_delivery_issue_subscriber')
    )
    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.create_index('ix_delivery_issue_status', ['issue_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_delivery_subscriber_id'), ['subscriber_id'], unique=False)

    op.create_table('tool',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=120), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('url', sa.Text(), nullable=True),
    sa.Column('tagline', sa.Text(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('category', sa.String(length=100), nullable=True),
    sa.Column('vendor', sa.String(length=200), nullable=True),
    sa.Column('price', sa.String(length=20), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('first_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('feed_id', sa.Integer(), nullable=True),
    sa.Column('edited', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['feed_id'], ['feed.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('slug')
    )
    with op.batch_alter_table('tool', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tool_category'), ['category'], unique=False)
        batch_op.create_index(batch_op.f('ix_tool_first_seen_at'), ['first_seen_at'], unique=False)

    op.create_table('comparison',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tool_a_id', sa.Integer(), nullable=False),
    sa.Column('tool_b_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('pricing_read', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('tool_a_id <> tool_b_id', name='ck_comparison_distinct_tools'),
    sa.ForeignKeyConstraint(['tool_a_id'], ['tool.id'], ),
    sa.ForeignKeyConstraint(['tool_b_id'], ['tool.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('comparison', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_comparison_tool_a_id'), ['tool_a_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_comparison_tool_b_id'), ['tool_b_id'], unique=False)

    op.create_table('toolkey',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('value', sa.String(length=1000), nullable=False),
    sa.Column('tool_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tool_id'], ['tool.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('kind', 'value', name='uq_toolkey_kind_value')
    )
    with op.batch_alter_table('toolkey', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_toolkey_tool_id'), ['tool_id'], unique=False)

    op.create_table('issuecomparison',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('issue_id', sa.Integer(), nullable=False),
    sa.Column('comparison_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['comparison_id'], ['comparison.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['issue_id'], ['issue.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('issue_id', 'comparison_id', name='uq_issuecomparison')
    )
    with op.batch_alter_table('issuecomparison', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_issuecomparison_comparison_id'), ['comparison_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_issuecomparison_issue_id'), ['issue_id'], unique=False)

    op.create_table('review',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('comparison_id', sa.Integer(), nullable=False),
    sa.Column('tool_id', sa.Integer(), nullable=False),
    sa.Column('reviewer', sa.String(length=50), nullable=False),
    sa.Column('verdict', sa.String(length=10), nullable=False),
    sa.Column('quote', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['comparison_id'], ['comparison.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tool_id'], ['tool.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('comparison_id', 'tool_id', 'reviewer', name='uq_review_one_per_reviewer')
    )
    with op.batch_alter_table('review', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_comparison_id'), ['comparison_id'], unique=False)

    op.create_table('vote',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('comparison_id', sa.Integer(), nullable=False),
    sa.Column('subscriber_id', sa.Integer(), nullable=False),
    sa.Column('choice', sa.String(length=1), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['comparison_id'], ['comparison.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['subscriber_id'], ['subscriber.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('comparison_id', 'subscriber_id', name='uq_vote_one_per_subscriber')
    )
    with op.batch_alter_table('vote', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_vote_comparison_id'), ['comparison_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('vote', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_vote_comparison_id'))

    op.drop_table('vote')
    with op.batch_alter_table('review', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_comparison_id'))

    op.drop_table('review')
    with op.batch_alter_table('issuecomparison', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_issuecomparison_issue_id'))
        batch_op.drop_index(batch_op.f('ix_issuecomparison_comparison_id'))

    op.drop_table('issuecomparison')
    with op.batch_alter_table('toolkey', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_toolkey_tool_id'))

    op.drop_table('toolkey')
    with op.batch_alter_table('comparison', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_comparison_tool_b_id'))
        batch_op.drop_index(batch_op.f('ix_comparison_tool_a_id'))

    op.drop_table('comparison')
    with op.batch_alter_table('tool', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tool_first_seen_at'))
        batch_op.drop_index(batch_op.f('ix_tool_category'))

    op.drop_table('tool')
    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_delivery_subscriber_id'))
        batch_op.drop_index('ix_delivery_issue_status')

    op.drop_table('delivery')
    op.drop_table('suppression')
    with op.batch_alter_table('subscriber', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_subscriber_status'))

    op.drop_table('subscriber')
    with op.batch_alter_table('scannermark', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scannermark_client'))

    op.drop_table('scannermark')
    op.drop_table('ratecount')
    op.drop_table('lease')
    op.drop_table('jobrun')
    with op.batch_alter_table('issue', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_issue_status'))

    op.drop_table('issue')
    op.drop_table('feed')
    op.drop_table('discardedaction')
    op.drop_table('counter')
