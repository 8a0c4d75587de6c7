"""payouts: ledger and earnings

The append-only double-entry ledger (transactions, and entries in integer cents and one currency per
transaction; a transaction is reversed at most once) and the earnings of answered chats (one per
conversation, its split checked by the database).

Revision ID: f788fd30dc74
Revises: 089ae6ea4c4c
Create Date: 2026-11-29 19:02:59.333690

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f788fd30dc74'
down_revision = '089ae6ea4c4c'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('ledger_transactions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('reverses_id', sa.Integer(), nullable=True),
    sa.Column('memo', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['reverses_id'], ['ledger_transactions.id'], name=op.f('fk_ledger_transactions_reverses_id_ledger_transactions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_transactions')),
    sa.UniqueConstraint('reverses_id', name='uq_ledger_transactions_reverses')
    )
    op.create_table('ledger_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('transaction_id', sa.Integer(), nullable=False),
    sa.Column('account_kind', sa.String(length=30), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('amount_cents', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('amount_cents <> 0', name=op.f('ck_ledger_entries_amount_not_zero')),
    sa.ForeignKeyConstraint(['transaction_id'], ['ledger_transactions.id'], name=op.f('fk_ledger_entries_transaction_id_ledger_transactions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_entries'))
    )
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.create_index('ix_ledger_entries_account', ['account_kind', 'owner_id', 'currency'], unique=False)
        batch_op.create_index(batch_op.f('ix_ledger_entries_transaction_id'), ['transaction_id'], unique=False)

    op.create_table('earnings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.Integer(), nullable=False),
    sa.Column('brand_id', sa.Integer(), nullable=False),
    sa.Column('expert_id', sa.Integer(), nullable=False),
    sa.Column('rate_card_id', sa.Integer(), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('price_cents', sa.Integer(), nullable=False),
    sa.Column('commission_cents', sa.Integer(), nullable=False),
    sa.Column('bonus_cents', sa.Integer(), nullable=False),
    sa.Column('expert_cents', sa.Integer(), nullable=False),
    sa.Column('closed_at', sa.DateTime(), nullable=False),
    sa.Column('earned_at', sa.DateTime(), nullable=False),
    sa.Column('hold_until', sa.DateTime(), nullable=False),
    sa.Column('status', sa.Enum('held', 'payable', 'reversed', name='earning_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('flags', sa.JSON(), nullable=False),
    sa.Column('transaction_id', sa.Integer(), nullable=True),
    sa.Column('released_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('expert_cents = price_cents + bonus_cents - commission_cents', name=op.f('ck_earnings_split')),
    sa.CheckConstraint('price_cents >= 0 AND commission_cents >= 0 AND bonus_cents >= 0', name=op.f('ck_earnings_amounts')),
    sa.ForeignKeyConstraint(['brand_id'], ['brands.id'], name=op.f('fk_earnings_brand_id_brands'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], name=op.f('fk_earnings_conversation_id_conversations'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['expert_id'], ['expert_profiles.id'], name=op.f('fk_earnings_expert_id_expert_profiles'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['rate_card_id'], ['rate_cards.id'], name=op.f('fk_earnings_rate_card_id_rate_cards'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['released_by_id'], ['ledger_transactions.id'], name=op.f('fk_earnings_released_by_id_ledger_transactions')),
    sa.ForeignKeyConstraint(['transaction_id'], ['ledger_transactions.id'], name=op.f('fk_earnings_transaction_id_ledger_transactions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_earnings')),
    sa.UniqueConstraint('conversation_id', name='uq_earnings_conversation')
    )
    with op.batch_alter_table('earnings', schema=None) as batch_op:
        batch_op.create_index('ix_earnings_closed', ['closed_at'], unique=False)
        batch_op.create_index('ix_earnings_expert_status', ['expert_id', 'status'], unique=False)
        batch_op.create_index('ix_earnings_status_hold', ['status', 'hold_until'], unique=False)



def downgrade():
    with op.batch_alter_table('earnings', schema=None) as batch_op:
        batch_op.drop_index('ix_earnings_status_hold')
        batch_op.drop_index('ix_earnings_expert_status')
        batch_op.drop_index('ix_earnings_closed')

    op.drop_table('earnings')
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ledger_entries_transaction_id'))
        batch_op.drop_index('ix_ledger_entries_account')

    op.drop_table('ledger_entries')
    op.drop_table('ledger_transactions')
