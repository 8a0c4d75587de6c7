"""router picks walk an index

The router's two picks, the brand's next waiting conversation and the least loaded, longest idle expert,
now read their first row off an index in rule 5's order instead of sorting every candidate on each
decision. The queue index turns priority descending; the experts' load and whether they were ever offered
become generated columns, so one plain index serves the pick on SQLite and PostgreSQL alike.

Revision ID: 089ae6ea4c4c
Revises: d7e1b54b6b01
Create Date: 2026-11-29 18:04:12.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '089ae6ea4c4c'
down_revision = 'd7e1b54b6b01'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_index('ix_conversations_queue')
        batch_op.create_index('ix_conversations_queue',
                              ['brand_id', 'status', sa.text('priority DESC'), 'queued_at', 'id'], unique=False)

    with op.batch_alter_table('expert_loads', schema=None) as batch_op:
        batch_op.add_column(sa.Column('load', sa.Integer(), sa.Computed('open_chats + pending_offers'),
                                      nullable=False))
        batch_op.add_column(sa.Column('ever_offered', sa.Boolean(), sa.Computed('last_offered_at IS NOT NULL'),
                                      nullable=False))
        batch_op.create_index('ix_expert_loads_pick', ['load', 'ever_offered', 'last_offered_at', 'expert_id'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('expert_loads', schema=None) as batch_op:
        batch_op.drop_index('ix_expert_loads_pick')
        batch_op.drop_column('ever_offered')
        batch_op.drop_column('load')

    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_index('ix_conversations_queue')
        batch_op.create_index('ix_conversations_queue', ['brand_id', 'status', 'priority', 'queued_at', 'id'],
                              unique=False)
