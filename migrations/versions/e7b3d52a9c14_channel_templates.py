"""channel templates: a WhatsApp number's approved message templates, and a template send's outbound record

A brand records its numbers' message templates (`channel_templates`: name, language, category, the body with its
{{1}}... placeholders, how many, and Meta's review status as the brand knows it; unique per number, name and
language). An expert's message sent as a template keeps the template's name, language and parameters on its
outbound record (`channel_deliveries`), so the send does not depend on the template staying as it was.

Revision ID: e7b3d52a9c14
Revises: d7a3c9e5b210
Create Date: 2026-12-06 15:30:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'e7b3d52a9c14'
down_revision = 'd7a3c9e5b210'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade():
    op.create_table('channel_templates',
    sa.Column('id', ID, nullable=False),
    sa.Column('channel_id', ID, nullable=False),
    sa.Column('name', sa.String(length=512), nullable=False),
    sa.Column('language', sa.String(length=16), nullable=False),
    sa.Column('category', sa.Enum('marketing', 'utility', 'authentication', name='template_category',
                                  native_enum=False, create_constraint=True), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('parameters', ID, nullable=False),
    sa.Column('status', sa.Enum('approved', 'pending', 'rejected', name='template_status', native_enum=False,
                                create_constraint=True), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('parameters >= 0', name=op.f('ck_channel_templates_parameters')),
    sa.ForeignKeyConstraint(['channel_id'], ['brand_channels.id'], name=op.f('fk_channel_templates_channel_id_brand_channels'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_channel_templates')),
    sa.UniqueConstraint('channel_id', 'name', 'language', name='uq_channel_templates_channel_name_language')
    )
    with op.batch_alter_table('channel_templates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_channel_templates_channel_id'), ['channel_id'], unique=False)
    with op.batch_alter_table('channel_deliveries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('template_name', sa.String(length=512), nullable=True))
        batch_op.add_column(sa.Column('template_language', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('template_parameters', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('channel_deliveries', schema=None) as batch_op:
        batch_op.drop_column('template_parameters')
        batch_op.drop_column('template_language')
        batch_op.drop_column('template_name')
    with op.batch_alter_table('channel_templates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_channel_templates_channel_id'))
    op.drop_table('channel_templates')
