"""FAQ credits: what an expert earns each time the FAQ bot resolves a conversation with an entry they wrote

`faq_credits` (one per resolved conversation at most: the brand, the entry's author, the entry, the brand's credit
and currency, when it was resolved, held until, held / payable / reversed, and its ledger transactions), posted
through the ledger as earnings are.

Revision ID: d9e2f3a4b5c6
Revises: c8f1a2b3d4e5
Create Date: 2026-12-06 21:30:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'd9e2f3a4b5c6'
down_revision = 'c8f1a2b3d4e5'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade():
    op.create_table('faq_credits',
    sa.Column('id', ID, nullable=False),
    sa.Column('conversation_id', ID, nullable=False),
    sa.Column('brand_id', ID, nullable=False),
    sa.Column('expert_id', ID, nullable=False),
    sa.Column('entry_id', ID, nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('amount_cents', ID, nullable=False),
    sa.Column('resolved_at', sa.DateTime(), nullable=False),
    sa.Column('credited_at', sa.DateTime(), nullable=False),
    sa.Column('hold_until', sa.DateTime(), nullable=False),
    sa.Column('status', sa.Enum('held', 'payable', 'reversed', name='faq_credit_status', native_enum=False,
                                create_constraint=True), nullable=False),
    sa.Column('transaction_id', ID, nullable=False),
    sa.Column('released_by_id', ID, nullable=True),
    sa.CheckConstraint('amount_cents > 0', name=op.f('ck_faq_credits_amount_positive')),
    sa.ForeignKeyConstraint(['brand_id'], ['brands.id'], name=op.f('fk_faq_credits_brand_id_brands'),
                            ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'],
                            name=op.f('fk_faq_credits_conversation_id_conversations'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['entry_id'], ['faq_entries.id'], name=op.f('fk_faq_credits_entry_id_faq_entries'),
                            ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['expert_id'], ['expert_profiles.id'], name=op.f('fk_faq_credits_expert_id_expert_profiles'),
                            ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['released_by_id'], ['ledger_transactions.id'],
                            name=op.f('fk_faq_credits_released_by_id_ledger_transactions')),
    sa.ForeignKeyConstraint(['transaction_id'], ['ledger_transactions.id'],
                            name=op.f('fk_faq_credits_transaction_id_ledger_transactions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_faq_credits')),
    sa.UniqueConstraint('conversation_id', name='uq_faq_credits_conversation')
    )
    with op.batch_alter_table('faq_credits', schema=None) as batch_op:
        batch_op.create_index('ix_faq_credits_expert_status', ['expert_id', 'status'], unique=False)
        batch_op.create_index('ix_faq_credits_resolved', ['resolved_at'], unique=False)
        batch_op.create_index('ix_faq_credits_status_hold', ['status', 'hold_until'], unique=False)


def downgrade():
    with op.batch_alter_table('faq_credits', schema=None) as batch_op:
        batch_op.drop_index('ix_faq_credits_status_hold')
        batch_op.drop_index('ix_faq_credits_resolved')
        batch_op.drop_index('ix_faq_credits_expert_status')
    op.drop_table('faq_credits')
