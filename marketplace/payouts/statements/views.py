"""Statements and invoices: the expert's monthly statements and yearly export, the brand's monthly invoice.

Pages for people (`statements`) and, nested in it, the JSON API's file downloads (`statements_api`, under
/api/v1). Periods in page addresses are text ("2026-03", "2026"), checked by the service's parsers; in API
addresses they are integers, as the OpenAPI document describes every path parameter.
"""

from __future__ import annotations

from flask import Blueprint, Response, render_template
from flask_login import current_user

from marketplace.accounts.models import Role
from marketplace.brands.console import brand_page
from marketplace.brands.services import BrandAccess
from marketplace.payouts.statements import documents
from marketplace.payouts.statements import services as statements
from marketplace.web import downloads
from marketplace.web.api import api_blueprint, endpoint
from marketplace.web.roles import role_required

blueprint = Blueprint("statements", __name__)
api = api_blueprint("statements_api", __name__)


def _download(content: str | bytes, filename: str) -> Response:
    return downloads.attachment(content, filename, "application/pdf" if filename.endswith(".pdf") else "text/csv")


def _statement_pdf(actor, year: int, month: int) -> Response:
    statement = statements.expert_statement(actor, year, month)
    return _download(documents.statement_pdf(statement), f"statement-{statement.month}.pdf")


def _statement_csv(actor, year: int, month: int) -> Response:
    statement = statements.expert_statement(actor, year, month)
    return _download(documents.statement_csv(statement), f"statement-{statement.month}.csv")


def _year_csv(actor, year: int) -> Response:
    income = statements.expert_year(actor, year)
    return _download(documents.year_csv(income), f"income-{income.year}.csv")


def _invoice_pdf(actor, brand_id: int, year: int, month: int) -> Response:
    invoice = statements.brand_invoice(actor, brand_id, year, month)
    return _download(documents.invoice_pdf(invoice), f"invoice-{invoice.number}.pdf")


# Pages.

@blueprint.get("/expert/statements")
@role_required("expert")
def expert_statements():
    return render_template("payouts/statements.html", index=statements.statement_index(current_user))


@blueprint.get("/expert/statements/<period>.pdf")
@role_required("expert")
def expert_statement_pdf(period: str):
    return _statement_pdf(current_user, *statements.parse_month(period))


@blueprint.get("/expert/statements/<period>.csv")
@role_required("expert")
def expert_statement_csv(period: str):
    """A month ("2026-03") gives its statement; a year ("2026") the year's income."""
    if "-" in period:
        return _statement_csv(current_user, *statements.parse_month(period))
    return _year_csv(current_user, statements.parse_year(period))


@blueprint.get("/brands/<slug>/invoices")
@brand_page()
def brand_invoices(access: BrandAccess):
    brand, months = statements.invoice_index(current_user, access.brand.id)
    return render_template("payouts/invoices.html", brand=brand, months=months)


@blueprint.get("/brands/<slug>/invoices/<period>.pdf")
@brand_page()  # another brand's is not found, whatever the period
def brand_invoice_pdf(access: BrandAccess, period: str):
    return _invoice_pdf(current_user, access.brand.id, *statements.parse_month(period))


# The API: the same files for programs.

@api.get("/experts/me/statements/<int:year>-<int:month>.pdf")
@endpoint("The calling expert's statement of a month, with its self-billing invoice, as PDF",
          roles=[Role.EXPERT], tags=["payouts"], errors=[422])
def own_statement_pdf(actor, year: int, month: int):
    return _statement_pdf(actor, year, month)


@api.get("/experts/me/statements/<int:year>-<int:month>.csv")
@endpoint("The calling expert's statement of a month as CSV (`;`, amounts as 12.50, the net also in cents)",
          roles=[Role.EXPERT], tags=["payouts"], errors=[422])
def own_statement_csv(actor, year: int, month: int):
    return _statement_csv(actor, year, month)


@api.get("/experts/me/statements/<int:year>.csv")
@endpoint("The calling expert's income of a calendar year per month and currency, as CSV",
          roles=[Role.EXPERT], tags=["payouts"], errors=[422])
def own_year_csv(actor, year: int):
    return _year_csv(actor, year)


@api.get("/brands/<int:brand_id>/invoices/<int:year>-<int:month>.pdf")
@endpoint("A brand's invoice of a month as PDF (the brand's members and tokens, finance staff)",
          roles=[Role.BRAND, Role.FINANCE], tags=["payouts"], errors=[422])
def brand_invoice(actor, brand_id: int, year: int, month: int):
    return _invoice_pdf(actor, brand_id, year, month)


# The payouts domain registers `blueprint` only; the API rides along with it (still under /api/v1).
blueprint.register_blueprint(api)
