"""queue index descending again

`089ae6ea4c4c` made the queue index priority-descending so the router reads the brand's next waiting
conversation off it unsorted. On SQLite, every later migration that rebuilt the conversations table (batch
mode's copy) recreated its indexes from what SQLite reflects, which drops the DESC: the router then sorted the
brand's whole queue on every decision (a 5,000-long queue: 4 ms a decision instead of 0.1). This builds it
again as the models say. PostgreSQL alters in place and kept it; rebuilding it there is harmless.

Revision ID: e7a1c2d3e4f5
Revises: e6f0b1c2d3e4
Create Date: 2026-12-07 06:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e7a1c2d3e4f5'
down_revision = 'e6f0b1c2d3e4'
branch_labels = None
depends_on = None


def upgrade():
    op.drop_index('ix_conversations_queue', table_name='conversations')
    op.create_index('ix_conversations_queue', 'conversations',
                    ['brand_id', 'status', sa.text('priority DESC'), 'queued_at', 'id'], unique=False)


def downgrade():
    pass  # the index stays as the models describe it: the revisions before this one meant it so
