"""Decisions explained to experts: every automated decision about an expert's work or pay with its reason, and
the human reviews they ask for

`expert_decisions` (expert, brand, kind, reason code, the parameters in force, the subject it was about, when) and
`decision_reviews` (one per decision at most: the expert's comment, the team that answers, the two-week deadline,
the written answer, who answered and when).

Revision ID: e3c0a1b2c3d4
Revises: e1a0c4d7b912
Create Date: 2026-12-07 00:10:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'e3c0a1b2c3d4'
down_revision = 'e1a0c4d7b912'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade():
    op.create_table('expert_decisions',
    sa.Column('id', ID, nullable=False),
    sa.Column('expert_id', ID, nullable=False),
    sa.Column('brand_id', ID, nullable=True),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('reason_code', sa.String(length=40), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('subject_type', sa.String(length=20), nullable=True),
    sa.Column('subject_id', ID, nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['brand_id'], ['brands.id'], name=op.f('fk_expert_decisions_brand_id_brands'),
                            ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['expert_id'], ['expert_profiles.id'],
                            name=op.f('fk_expert_decisions_expert_id_expert_profiles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_expert_decisions'))
    )
    with op.batch_alter_table('expert_decisions', schema=None) as batch_op:
        batch_op.create_index('ix_expert_decisions_expert_created', ['expert_id', 'created_at'], unique=False)
    op.create_table('decision_reviews',
    sa.Column('id', ID, nullable=False),
    sa.Column('decision_id', ID, nullable=False),
    sa.Column('expert_id', ID, nullable=False),
    sa.Column('team', sa.String(length=10), nullable=False),
    sa.Column('comment', sa.String(length=2000), nullable=False),
    sa.Column('status', sa.Enum('open', 'answered', name='decision_review_status', native_enum=False,
                                create_constraint=True, length=8), nullable=False),
    sa.Column('requested_at', sa.DateTime(), nullable=False),
    sa.Column('due_at', sa.DateTime(), nullable=False),
    sa.Column('answer', sa.String(length=4000), nullable=True),
    sa.Column('answered_by_id', ID, nullable=True),
    sa.Column('answered_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['answered_by_id'], ['users.id'], name=op.f('fk_decision_reviews_answered_by_id_users'),
                            ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['decision_id'], ['expert_decisions.id'],
                            name=op.f('fk_decision_reviews_decision_id_expert_decisions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['expert_id'], ['expert_profiles.id'],
                            name=op.f('fk_decision_reviews_expert_id_expert_profiles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_decision_reviews')),
    sa.UniqueConstraint('decision_id', name=op.f('uq_decision_reviews_decision_id'))
    )
    with op.batch_alter_table('decision_reviews', schema=None) as batch_op:
        batch_op.create_index('ix_decision_reviews_status_due', ['status', 'due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_decision_reviews_expert_id'), ['expert_id'], unique=False)


def downgrade():
    with op.batch_alter_table('decision_reviews', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_decision_reviews_expert_id'))
        batch_op.drop_index('ix_decision_reviews_status_due')
    op.drop_table('decision_reviews')
    with op.batch_alter_table('expert_decisions', schema=None) as batch_op:
        batch_op.drop_index('ix_expert_decisions_expert_created')
    op.drop_table('expert_decisions')
