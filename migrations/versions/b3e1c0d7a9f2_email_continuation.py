"""e-mail continuation: the digest's stored state, a resumed browser, the transcript's rate limit

The digest of an expert's replies to an away visitor keeps the last message e-mailed and when the next e-mail is
due on the conversation, so a restart neither loses nor repeats one; a browser bound through the resume link has
its token's hash beside the first browser's.

Revision ID: b3e1c0d7a9f2
Revises: 63eaf7790005
Create Date: 2026-12-06 12:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b3e1c0d7a9f2'
down_revision = '63eaf7790005'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('continuation_sent_seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('continuation_due_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('resumed_token_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('transcript_sent_at', sa.DateTime(), nullable=True))
        batch_op.create_index(batch_op.f('ix_conversations_continuation_due_at'), ['continuation_due_at'], unique=False)


def downgrade():
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_conversations_continuation_due_at'))
        batch_op.drop_column('transcript_sent_at')
        batch_op.drop_column('resumed_token_hash')
        batch_op.drop_column('continuation_due_at')
        batch_op.drop_column('continuation_sent_seq')
