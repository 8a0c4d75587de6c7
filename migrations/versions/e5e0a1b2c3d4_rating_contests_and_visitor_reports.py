"""The expert's side of a rating: contests of a rating (kept or removed by the brand) and reports of abusive visitors

`conversations.rating_removed_at` (a removed rating is kept for audit and counts nowhere), `rating_contests` (one
per conversation: the expert, the rating contested, their reason, pending / kept / removed, the brand's written
answer and who gave it) and `visitor_reports` (one per expert and conversation: a reason and a comment).

Revision ID: e5e0a1b2c3d4
Revises: e4d0a7c3b921
Create Date: 2026-12-07 00:05:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'e5e0a1b2c3d4'
down_revision = 'e4d0a7c3b921'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade():
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rating_removed_at', sa.DateTime(), nullable=True))

    op.create_table('rating_contests',
    sa.Column('id', ID, nullable=False),
    sa.Column('conversation_id', ID, nullable=False),
    sa.Column('brand_id', ID, nullable=False),
    sa.Column('expert_id', ID, nullable=False),
    sa.Column('rating', ID, nullable=False),
    sa.Column('reason', sa.String(length=2000), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'kept', 'removed', name='rating_contest_status', native_enum=False,
                                create_constraint=True), nullable=False),
    sa.Column('answer', sa.String(length=2000), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('decided_by_id', ID, nullable=True),
    sa.ForeignKeyConstraint(['brand_id'], ['brands.id'], name=op.f('fk_rating_contests_brand_id_brands'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'],
                            name=op.f('fk_rating_contests_conversation_id_conversations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_rating_contests_decided_by_id_users'),
                            ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['expert_id'], ['expert_profiles.id'],
                            name=op.f('fk_rating_contests_expert_id_expert_profiles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rating_contests')),
    sa.UniqueConstraint('conversation_id', name=op.f('uq_rating_contests_conversation_id'))
    )
    with op.batch_alter_table('rating_contests', schema=None) as batch_op:
        batch_op.create_index('ix_rating_contests_brand_status', ['brand_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_rating_contests_expert_id'), ['expert_id'], unique=False)

    op.create_table('visitor_reports',
    sa.Column('id', ID, nullable=False),
    sa.Column('conversation_id', ID, nullable=False),
    sa.Column('brand_id', ID, nullable=False),
    sa.Column('expert_id', ID, nullable=False),
    sa.Column('reason', sa.Enum('insults', 'harassment', 'threats', 'spam', 'other', name='visitor_report_reason',
                                native_enum=False, create_constraint=True), nullable=False),
    sa.Column('comment', sa.String(length=2000), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['brand_id'], ['brands.id'], name=op.f('fk_visitor_reports_brand_id_brands'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'],
                            name=op.f('fk_visitor_reports_conversation_id_conversations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['expert_id'], ['expert_profiles.id'],
                            name=op.f('fk_visitor_reports_expert_id_expert_profiles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visitor_reports')),
    sa.UniqueConstraint('conversation_id', 'expert_id', name='uq_visitor_reports_conversation_expert')
    )
    with op.batch_alter_table('visitor_reports', schema=None) as batch_op:
        batch_op.create_index('ix_visitor_reports_brand_created', ['brand_id', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_visitor_reports_expert_id'), ['expert_id'], unique=False)


def downgrade():
    with op.batch_alter_table('visitor_reports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_visitor_reports_expert_id'))
        batch_op.drop_index('ix_visitor_reports_brand_created')
    op.drop_table('visitor_reports')
    with op.batch_alter_table('rating_contests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rating_contests_expert_id'))
        batch_op.drop_index('ix_rating_contests_brand_status')
    op.drop_table('rating_contests')
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_column('rating_removed_at')
