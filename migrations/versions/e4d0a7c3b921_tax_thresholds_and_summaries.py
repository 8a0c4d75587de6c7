"""French tax duties: dated tax ceilings and the notices of the experts' yearly summaries

`tax_thresholds` (a ceiling's kind, the day it takes effect, its amount and currency, its legal source: the
micro-entrepreneur turnover ceiling for services and the VAT franchise ceiling for services, seeded with the
amounts of the finance laws since 2020) and `tax_summary_notices` (one per expert and year: the expert was told
their art. 242 bis summary is ready).

Revision ID: e4d0a7c3b921
Revises: d9e2f3a4b5c6
Create Date: 2026-12-07 00:00:00.000000

"""
import datetime as dt

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'e4d0a7c3b921'
down_revision = 'd9e2f3a4b5c6'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')

# (kind, effective from, euros, source): art. 50-0 and 102 ter CGI (micro-entrepreneur, services), art. 293 B CGI
# (VAT franchise, services; the base threshold, not the higher one of the year it is passed).
KNOWN_THRESHOLDS = [
    ("micro_services", dt.date(2020, 1, 1), 72_600, "CGI art. 50-0 / 102 ter (2020-2022)"),
    ("micro_services", dt.date(2023, 1, 1), 77_700, "CGI art. 50-0 / 102 ter, arrêté 2023 (2023-2025)"),
    ("vat_franchise_services", dt.date(2020, 1, 1), 34_400, "CGI art. 293 B (2020-2022)"),
    ("vat_franchise_services", dt.date(2023, 1, 1), 36_800, "CGI art. 293 B (2023-2024)"),
    ("vat_franchise_services", dt.date(2025, 1, 1), 37_500, "CGI art. 293 B, loi de finances 2025"),
]


def upgrade():
    thresholds = op.create_table('tax_thresholds',
    sa.Column('id', ID, nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('effective_from', sa.Date(), nullable=False),
    sa.Column('amount_cents', ID, nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=False),
    sa.Column('created_by_id', ID, nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('amount_cents > 0', name=op.f('ck_tax_thresholds_amount_positive')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_tax_thresholds_created_by_id_users'),
                            ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tax_thresholds')),
    sa.UniqueConstraint('kind', 'effective_from', name='uq_tax_thresholds_kind_from')
    )
    op.create_table('tax_summary_notices',
    sa.Column('id', ID, nullable=False),
    sa.Column('expert_id', ID, nullable=False),
    sa.Column('year', ID, nullable=False),
    sa.Column('notified_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['expert_id'], ['expert_profiles.id'],
                            name=op.f('fk_tax_summary_notices_expert_id_expert_profiles'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tax_summary_notices')),
    sa.UniqueConstraint('expert_id', 'year', name='uq_tax_summary_notices_expert_year')
    )
    seeded = dt.datetime(2026, 12, 7)
    op.bulk_insert(thresholds, [
        {"kind": kind, "effective_from": day, "amount_cents": euros * 100, "currency": "EUR", "note": note,
         "created_by_id": None, "created_at": seeded}
        for kind, day, euros, note in KNOWN_THRESHOLDS])


def downgrade():
    op.drop_table('tax_summary_notices')
    op.drop_table('tax_thresholds')
