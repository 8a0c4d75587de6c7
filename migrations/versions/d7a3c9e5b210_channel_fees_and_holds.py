"""channel fees: a brand's effective-dated fee per messaging app and message category, and the messages it held

`channel_fees`: what the brand pays per outbound message of one app (`whatsapp`, `messenger`) and category
(`service`, `utility`, `marketing`, `authentication`), in cents, from a day on. Each outbound record
(`channel_deliveries`) notes the fee in effect when its message was stored (`fee_cents`, `fee_category`).
`channel_holds`: an expert's message refused because its fee would have passed the brand's monthly budget.

Revision ID: d7a3c9e5b210
Revises: c5d2e8a41f07
Create Date: 2026-12-06 15:20:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'd7a3c9e5b210'
down_revision = 'c5d2e8a41f07'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
KINDS = ('web', 'whatsapp', 'messenger')
CATEGORIES = ('service', 'utility', 'marketing', 'authentication')


def upgrade():
    op.create_table('channel_fees',
    sa.Column('id', ID, nullable=False),
    sa.Column('brand_id', ID, nullable=False),
    sa.Column('kind', sa.Enum(*KINDS, name='channel_fee_kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('category', sa.Enum(*CATEGORIES, name='channel_fee_category', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('amount_cents', ID, nullable=False),
    sa.Column('effective_from', sa.Date(), nullable=False),
    sa.Column('created_by_id', ID, nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('amount_cents >= 0', name=op.f('ck_channel_fees_amount')),
    sa.ForeignKeyConstraint(['brand_id'], ['brands.id'], name=op.f('fk_channel_fees_brand_id_brands'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_channel_fees_created_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_channel_fees'))
    )
    with op.batch_alter_table('channel_fees', schema=None) as batch_op:
        batch_op.create_index('ix_channel_fees_lookup', ['brand_id', 'kind', 'category', 'effective_from'], unique=False)

    op.create_table('channel_holds',
    sa.Column('id', ID, nullable=False),
    sa.Column('brand_id', ID, nullable=False),
    sa.Column('conversation_id', ID, nullable=True),
    sa.Column('fee_cents', ID, nullable=False),
    sa.Column('held_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['brand_id'], ['brands.id'], name=op.f('fk_channel_holds_brand_id_brands'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], name=op.f('fk_channel_holds_conversation_id_conversations'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_channel_holds'))
    )
    with op.batch_alter_table('channel_holds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_channel_holds_brand_id'), ['brand_id'], unique=False)

    with op.batch_alter_table('channel_deliveries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('fee_cents', ID, server_default='0', nullable=False))
        batch_op.add_column(sa.Column('fee_category', sa.Enum(*CATEGORIES, name='delivery_fee_category', native_enum=False, create_constraint=True), nullable=True))


def downgrade():
    with op.batch_alter_table('channel_deliveries', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_channel_deliveries_delivery_fee_category'), type_='check')
        batch_op.drop_column('fee_category')
        batch_op.drop_column('fee_cents')
    with op.batch_alter_table('channel_holds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_channel_holds_brand_id'))
    op.drop_table('channel_holds')
    with op.batch_alter_table('channel_fees', schema=None) as batch_op:
        batch_op.drop_index('ix_channel_fees_lookup')
    op.drop_table('channel_fees')
