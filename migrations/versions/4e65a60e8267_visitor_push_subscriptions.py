"""visitor push subscriptions: a visitor's browser takes Web Push for one conversation

A subscription belongs to the conversation (the visitor has no account) and goes with it; unique per conversation
and endpoint. `conversations.visitor_push_at` says, on the row already read, that the visitor can be reached so.

Revision ID: 4e65a60e8267
Revises: 40c38b64d23d
Create Date: 2026-12-06 14:14:11.545844

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '4e65a60e8267'
down_revision = '40c38b64d23d'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('visitor_push_subscriptions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('conversation_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('endpoint', sa.String(length=1000), nullable=False),
    sa.Column('p256dh', sa.String(length=200), nullable=False),
    sa.Column('auth', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('last_success_at', sa.DateTime(), nullable=True),
    sa.Column('failure_count', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], name=op.f('fk_visitor_push_subscriptions_conversation_id_conversations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visitor_push_subscriptions')),
    sa.UniqueConstraint('conversation_id', 'endpoint', name='uq_visitor_push_conversation_endpoint')
    )
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('visitor_push_at', sa.DateTime(), nullable=True))



def downgrade():
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_column('visitor_push_at')

    op.drop_table('visitor_push_subscriptions')
