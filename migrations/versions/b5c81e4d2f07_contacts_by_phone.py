"""contacts by phone: a WhatsApp customer is a contact of the brand keyed by the number WhatsApp verified

`contacts.phone` (E.164, unique per brand beside the address); `email` and `email_normalised` may be empty (a
customer who only wrote on WhatsApp has no address). `brand_channels.display_phone_number`: a WhatsApp number as
people dial it, for the widget's "Continue on WhatsApp" link.

Going back deletes the contacts that have no address (their conversations lose their contact).

Revision ID: b5c81e4d2f07
Revises: e7b3d52a9c14
Create Date: 2026-12-06 17:50:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'b5c81e4d2f07'
down_revision = 'e7b3d52a9c14'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('phone', sa.String(length=16), nullable=True))
        batch_op.alter_column('email', existing_type=sa.String(length=254), nullable=True)
        batch_op.alter_column('email_normalised', existing_type=sa.String(length=254), nullable=True)
        batch_op.create_unique_constraint('uq_contacts_brand_phone', ['brand_id', 'phone'])
    with op.batch_alter_table('brand_channels', schema=None) as batch_op:
        batch_op.add_column(sa.Column('display_phone_number', sa.String(length=20), nullable=True))


def downgrade():
    with op.batch_alter_table('brand_channels', schema=None) as batch_op:
        batch_op.drop_column('display_phone_number')
    contacts = sa.table('contacts', sa.column('id'), sa.column('email'), sa.column('merged_into_id'))
    without_address = sa.select(contacts.c.id).where(contacts.c.email.is_(None))
    conversations = sa.table('conversations', sa.column('contact_id'))
    op.execute(sa.update(conversations).where(conversations.c.contact_id.in_(without_address))
               .values(contact_id=None))
    op.execute(sa.update(contacts).where(contacts.c.merged_into_id.in_(without_address)).values(merged_into_id=None))
    op.execute(sa.delete(contacts).where(contacts.c.email.is_(None)))
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.drop_constraint('uq_contacts_brand_phone', type_='unique')
        batch_op.alter_column('email_normalised', existing_type=sa.String(length=254), nullable=False)
        batch_op.alter_column('email', existing_type=sa.String(length=254), nullable=False)
        batch_op.drop_column('phone')
