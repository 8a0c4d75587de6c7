"""stripe accounts, provider events, payout rails

Experts' Stripe connected accounts, webhook events already handled (a second delivery changes nothing),
each payout item's rail (Stripe transfer or SEPA file line) and the submission times.

Revision ID: 0dbca1514ac3
Revises: 18dec1222266
Create Date: 2026-11-29 20:11:53.062377

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0dbca1514ac3'
down_revision = '18dec1222266'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('provider_events',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('type', sa.String(length=60), nullable=False),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_provider_events'))
    )
    op.create_table('stripe_accounts',
    sa.Column('expert_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.String(length=64), nullable=False),
    sa.Column('transfers_enabled', sa.Boolean(), nullable=False),
    sa.Column('details_submitted', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('event_created', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['expert_id'], ['expert_profiles.id'], name=op.f('fk_stripe_accounts_expert_id_expert_profiles'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('expert_id', name=op.f('pk_stripe_accounts')),
    sa.UniqueConstraint('account_id', name=op.f('uq_stripe_accounts_account_id'))
    )
    with op.batch_alter_table('payout_batches', schema=None) as batch_op:
        batch_op.add_column(sa.Column('submitted_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('submitted_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('finished_at', sa.DateTime(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_payout_batches_submitted_by_id_users'), 'users', ['submitted_by_id'], ['id'], ondelete='RESTRICT')

    with op.batch_alter_table('payout_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rail', sa.Enum('stripe', 'sepa', name='payout_rail', native_enum=False, create_constraint=True), nullable=False, server_default='sepa'))
        batch_op.add_column(sa.Column('submitted_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('finished_at', sa.DateTime(), nullable=True))
        batch_op.create_index(batch_op.f('ix_payout_items_provider_ref'), ['provider_ref'], unique=False)



def downgrade():
    with op.batch_alter_table('payout_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payout_items_provider_ref'))
        batch_op.drop_column('finished_at')
        batch_op.drop_column('submitted_at')
        batch_op.drop_constraint(batch_op.f('ck_payout_items_payout_rail'), type_='check')  # SQLite's rebuild keeps it
        batch_op.drop_column('rail')

    with op.batch_alter_table('payout_batches', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_payout_batches_submitted_by_id_users'), type_='foreignkey')
        batch_op.drop_column('finished_at')
        batch_op.drop_column('submitted_at')
        batch_op.drop_column('submitted_by_id')

    op.drop_table('stripe_accounts')
    op.drop_table('provider_events')
