"""messaging channels: a brand's WhatsApp numbers and Facebook Pages, their conversations and outbound messages

A brand connects a messaging app account (`brand_channels`: its kind, Meta's account id unique per kind, the access
token, app secret and verify token sealed at rest, and the account's health). A conversation's `channel` may be
`whatsapp` or `messenger` (its column widens); such a conversation names the account it came through, the
customer's id there, when they last wrote and when Meta's customer service window closes. An expert's message in it
has an outbound record (`channel_deliveries`): its state, Meta's message id, the error, the attempts.

The one-open-conversation index is dropped and made again around the rebuild of `conversations` on SQLite, as the
asynchronous conversations' migration does (the copy would lose its condition).

Revision ID: c5d2e8a41f07
Revises: a4e62def7451
Create Date: 2026-12-06 15:10:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'c5d2e8a41f07'
down_revision = 'a4e62def7451'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
OPEN = sa.text("status IN ('waiting', 'offered', 'active', 'asynchronous')")
KINDS = ('web', 'whatsapp', 'messenger')
STATES = ('pending', 'sending', 'sent', 'delivered', 'read', 'failed')


def _in(column, names):
    return sa.text("{} IN ({})".format(column, ", ".join(f"'{name}'" for name in names)))


def upgrade():
    op.create_table('brand_channels',
    sa.Column('id', ID, nullable=False),
    sa.Column('brand_id', ID, nullable=False),
    sa.Column('kind', sa.Enum(*KINDS, name='brand_channel_kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('account_id', sa.String(length=32), nullable=False),
    sa.Column('access_token_sealed', sa.Text(), nullable=False),
    sa.Column('app_secret_sealed', sa.Text(), nullable=False),
    sa.Column('verify_token_sealed', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('last_inbound_at', sa.DateTime(), nullable=True),
    sa.Column('last_error', sa.String(length=300), nullable=True),
    sa.Column('last_error_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['brand_id'], ['brands.id'], name=op.f('fk_brand_channels_brand_id_brands'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_brand_channels')),
    sa.UniqueConstraint('kind', 'account_id', name='uq_brand_channels_kind_account')
    )
    with op.batch_alter_table('brand_channels', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_brand_channels_brand_id'), ['brand_id'], unique=False)

    op.drop_index('uq_conversations_one_open', table_name='conversations')
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_conversations_channel'), type_='check')
        batch_op.alter_column('channel', existing_type=sa.String(3), type_=sa.String(9), existing_nullable=False)
        batch_op.create_check_constraint('channel', _in('channel', KINDS))
        batch_op.add_column(sa.Column('channel_id', ID, nullable=True))
        batch_op.add_column(sa.Column('channel_customer', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('customer_wrote_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('window_closes_at', sa.DateTime(), nullable=True))
        batch_op.create_index(batch_op.f('ix_conversations_channel_id'), ['channel_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_conversations_channel_id_brand_channels'), 'brand_channels',
                                    ['channel_id'], ['id'], ondelete='SET NULL')
    op.create_index('uq_conversations_one_open', 'conversations', ['brand_id', 'visitor_token_hash'],
                    unique=True, sqlite_where=OPEN, postgresql_where=OPEN)

    op.create_table('channel_deliveries',
    sa.Column('message_id', ID, nullable=False),
    sa.Column('conversation_id', ID, nullable=False),
    sa.Column('channel_id', ID, nullable=True),
    sa.Column('state', sa.Enum(*STATES, name='delivery_state', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('platform_message_id', sa.String(length=128), nullable=True),
    sa.Column('error_code', ID, nullable=True),
    sa.Column('error_text', sa.String(length=300), nullable=True),
    sa.Column('attempts', ID, nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(), nullable=True),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.Column('delivered_at', sa.DateTime(), nullable=True),
    sa.Column('read_at', sa.DateTime(), nullable=True),
    sa.Column('failed_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint('attempts >= 0', name=op.f('ck_channel_deliveries_attempts')),
    sa.ForeignKeyConstraint(['channel_id'], ['brand_channels.id'], name=op.f('fk_channel_deliveries_channel_id_brand_channels'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], name=op.f('fk_channel_deliveries_conversation_id_conversations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_channel_deliveries_message_id_messages'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('message_id', name=op.f('pk_channel_deliveries')),
    sa.UniqueConstraint('channel_id', 'platform_message_id', name='uq_channel_deliveries_platform_id')
    )
    with op.batch_alter_table('channel_deliveries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_channel_deliveries_conversation_id'), ['conversation_id'], unique=False)
        batch_op.create_index('ix_channel_deliveries_state_due', ['state', 'next_attempt_at'], unique=False)


def downgrade():
    with op.batch_alter_table('channel_deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_channel_deliveries_state_due')
        batch_op.drop_index(batch_op.f('ix_channel_deliveries_conversation_id'))
    op.drop_table('channel_deliveries')
    # A messaging app's conversations keep their messages and count as the widget's (the column narrows to it).
    op.execute(sa.text("UPDATE conversations SET channel = 'web' WHERE channel <> 'web'"))
    op.drop_index('uq_conversations_one_open', table_name='conversations')
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_conversations_channel_id_brand_channels'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_conversations_channel_id'))
        batch_op.drop_column('window_closes_at')
        batch_op.drop_column('customer_wrote_at')
        batch_op.drop_column('channel_customer')
        batch_op.drop_column('channel_id')
        batch_op.drop_constraint(op.f('ck_conversations_channel'), type_='check')
        batch_op.alter_column('channel', existing_type=sa.String(9), type_=sa.String(3), existing_nullable=False)
        batch_op.create_check_constraint('channel', _in('channel', ('web',)))
    op.create_index('uq_conversations_one_open', 'conversations', ['brand_id', 'visitor_token_hash'],
                    unique=True, sqlite_where=OPEN, postgresql_where=OPEN)
    with op.batch_alter_table('brand_channels', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_brand_channels_brand_id'))
    op.drop_table('brand_channels')
