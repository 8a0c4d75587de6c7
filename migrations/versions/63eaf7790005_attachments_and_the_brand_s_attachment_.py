"""attachments and the brand's attachment limit

A file sent in a conversation (photo or PDF) is a row tied to its conversation and to the one message that
carries it; the files themselves are in the attachment storage (a folder or S3). Each brand has a largest
file size, 10 MB by default (the program service keeps it within bounds: adding a CHECK here would rebuild
the brands table on SQLite).

Revision ID: 63eaf7790005
Revises: a7c41e9d2b63
Create Date: 2026-12-06 11:37:09.219504

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '63eaf7790005'
down_revision = 'a7c41e9d2b63'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('attachments',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('conversation_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('message_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.Enum('image', 'pdf', name='attachment_kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('content_type', sa.String(length=40), nullable=False),
    sa.Column('filename', sa.String(length=120), nullable=False),
    sa.Column('size', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('width', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('height', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('storage_key', sa.String(length=120), nullable=False),
    sa.Column('thumbnail_key', sa.String(length=120), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], name=op.f('fk_attachments_conversation_id_conversations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_attachments_message_id_messages'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attachments')),
    sa.UniqueConstraint('message_id', name=op.f('uq_attachments_message_id'))
    )
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attachments_conversation_id'), ['conversation_id'], unique=False)

    with op.batch_alter_table('brands', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attachment_max_bytes', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), server_default='10485760', nullable=False))



def downgrade():
    with op.batch_alter_table('brands', schema=None) as batch_op:
        batch_op.drop_column('attachment_max_bytes')

    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attachments_conversation_id'))

    op.drop_table('attachments')
