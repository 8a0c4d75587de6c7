"""payouts: batches and items

Payout batches (one open per currency, four eyes checked by the database) and their items, one per expert.

Revision ID: 18dec1222266
Revises: f788fd30dc74
Create Date: 2026-11-29 19:16:43.890633

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '18dec1222266'
down_revision = 'f788fd30dc74'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('payout_batches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('status', sa.Enum('draft', 'approved', 'submitting', 'paid', 'partially_failed', 'closed', 'cancelled', name='batch_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('minimum_cents', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('approved_by_id', sa.Integer(), nullable=True),
    sa.Column('approved_at', sa.DateTime(), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(), nullable=True),
    sa.Column('carried_forward', sa.JSON(), nullable=False),
    sa.Column('not_ready', sa.JSON(), nullable=False),
    sa.CheckConstraint('approved_by_id IS NULL OR approved_by_id <> created_by_id', name=op.f('ck_payout_batches_four_eyes')),
    sa.CheckConstraint('minimum_cents >= 0', name=op.f('ck_payout_batches_minimum')),
    sa.ForeignKeyConstraint(['approved_by_id'], ['users.id'], name=op.f('fk_payout_batches_approved_by_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_payout_batches_created_by_id_users'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payout_batches'))
    )
    with op.batch_alter_table('payout_batches', schema=None) as batch_op:
        batch_op.create_index('uq_payout_batches_one_open', ['currency'], unique=True, sqlite_where=sa.text("status IN ('draft', 'approved', 'submitting')"), postgresql_where=sa.text("status IN ('draft', 'approved', 'submitting')"))

    op.create_table('payout_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('expert_id', sa.Integer(), nullable=False),
    sa.Column('amount_cents', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'submitted', 'paid', 'failed', 'reversed', name='item_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('provider_ref', sa.String(length=100), nullable=True),
    sa.Column('failure', sa.String(length=300), nullable=True),
    sa.CheckConstraint('amount_cents > 0', name=op.f('ck_payout_items_amount_positive')),
    sa.CheckConstraint('attempt >= 1', name=op.f('ck_payout_items_attempt')),
    sa.ForeignKeyConstraint(['batch_id'], ['payout_batches.id'], name=op.f('fk_payout_items_batch_id_payout_batches'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['expert_id'], ['expert_profiles.id'], name=op.f('fk_payout_items_expert_id_expert_profiles'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payout_items')),
    sa.UniqueConstraint('batch_id', 'expert_id', name='uq_payout_items_batch_expert')
    )
    with op.batch_alter_table('payout_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payout_items_batch_id'), ['batch_id'], unique=False)



def downgrade():
    with op.batch_alter_table('payout_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payout_items_batch_id'))

    op.drop_table('payout_items')
    with op.batch_alter_table('payout_batches', schema=None) as batch_op:
        batch_op.drop_index('uq_payout_batches_one_open', sqlite_where=sa.text("status IN ('draft', 'approved', 'submitting')"), postgresql_where=sa.text("status IN ('draft', 'approved', 'submitting')"))

    op.drop_table('payout_batches')
