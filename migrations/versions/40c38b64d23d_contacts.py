"""contacts: a visitor who proved an address becomes a contact of that brand only

A contact belongs to one brand (the same address with two brands is two contacts, unique per brand on the
normalised address); a conversation may point at its brand's contact.

Revision ID: 40c38b64d23d
Revises: b3e1c0d7a9f2
Create Date: 2026-12-06 12:26:14.769297

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '40c38b64d23d'
down_revision = 'b3e1c0d7a9f2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('contacts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('brand_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('email_normalised', sa.String(length=254), nullable=False),
    sa.Column('display_name', sa.String(length=120), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('proved_at', sa.DateTime(), nullable=False),
    sa.Column('merged_into_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.ForeignKeyConstraint(['brand_id'], ['brands.id'], name=op.f('fk_contacts_brand_id_brands'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['merged_into_id'], ['contacts.id'], name=op.f('fk_contacts_merged_into_id_contacts'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contacts')),
    sa.UniqueConstraint('brand_id', 'email_normalised', name='uq_contacts_brand_email')
    )
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('contact_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True))
        batch_op.create_index(batch_op.f('ix_conversations_contact_id'), ['contact_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_conversations_contact_id_contacts'), 'contacts', ['contact_id'], ['id'], ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_conversations_contact_id_contacts'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_conversations_contact_id'))
        batch_op.drop_column('contact_id')

    op.drop_table('contacts')
