"""channel early statuses: Meta's statuses that came before the send recorded its message's id

Meta may post a message's status (sent, delivered, read, failed) before our send has recorded the id Graph answered
with: such a status was dropped, and the outbound record stayed `sent` (or a failure never showed). It is kept in
`channel_early_statuses` (one row per message id and status) until the send records the id, or for a day.

Revision ID: f1c4e8a2b6d0
Revises: e7a1c2d3e4f5
Create Date: 2026-12-08 10:00:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'f1c4e8a2b6d0'
down_revision = 'e7a1c2d3e4f5'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade():
    op.create_table('channel_early_statuses',
    sa.Column('id', ID, nullable=False),
    sa.Column('channel_id', ID, nullable=False),
    sa.Column('platform_message_id', sa.String(length=128), nullable=False),
    sa.Column('state', sa.Enum('pending', 'sending', 'sent', 'delivered', 'read', 'failed', name='delivery_state',
                               native_enum=False, create_constraint=True), nullable=False),
    sa.Column('occurred_at', sa.DateTime(), nullable=False),
    sa.Column('error_code', ID, nullable=True),
    sa.Column('error_text', sa.String(length=300), nullable=True),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['channel_id'], ['brand_channels.id'],
                            name=op.f('fk_channel_early_statuses_channel_id_brand_channels'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_channel_early_statuses')),
    sa.UniqueConstraint('channel_id', 'platform_message_id', 'state', name='uq_channel_early_statuses_state')
    )
    with op.batch_alter_table('channel_early_statuses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_channel_early_statuses_received_at'), ['received_at'], unique=False)


def downgrade():
    with op.batch_alter_table('channel_early_statuses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_channel_early_statuses_received_at'))
    op.drop_table('channel_early_statuses')
