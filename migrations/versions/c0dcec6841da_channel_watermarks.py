"""channel watermarks: Messenger receipts that came before the send recorded the message they cover

A Messenger receipt names no message, only a time (its watermark: every message sent to the person before it was
delivered, or read). One that came before our send had recorded its message's `sent_at` moved nothing and was kept
nowhere: the message stayed `delivered` (or `sent`) for good. The latest watermarks of each person on each page are
kept in `channel_watermarks`, for the send to apply as it records; forgotten a day after they last changed.

Revision ID: c0dcec6841da
Revises: f1c4e8a2b6d0
Create Date: 2026-12-09 10:00:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'c0dcec6841da'
down_revision = 'f1c4e8a2b6d0'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade():
    op.create_table('channel_watermarks',
    sa.Column('channel_id', ID, nullable=False),
    sa.Column('customer', sa.String(length=64), nullable=False),
    sa.Column('delivered_up_to', sa.DateTime(), nullable=True),
    sa.Column('delivered_at', sa.DateTime(), nullable=True),
    sa.Column('read_up_to', sa.DateTime(), nullable=True),
    sa.Column('read_at', sa.DateTime(), nullable=True),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['channel_id'], ['brand_channels.id'],
                            name=op.f('fk_channel_watermarks_channel_id_brand_channels'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('channel_id', 'customer', name=op.f('pk_channel_watermarks'))
    )
    with op.batch_alter_table('channel_watermarks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_channel_watermarks_received_at'), ['received_at'], unique=False)


def downgrade():
    with op.batch_alter_table('channel_watermarks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_channel_watermarks_received_at'))
    op.drop_table('channel_watermarks')
