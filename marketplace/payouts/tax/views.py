"""Tax pages and files: the expert's yearly summaries (art. 242 bis CGI), finance's DAC7 report and the dated
ceilings; and, nested in the blueprint, the expert's summary in the JSON API (under /api/v1).

Years in addresses are text, checked by `services.parse_year`, so "abc" or 1850 is refused naming the year
(422) rather than not found.
"""

from __future__ import annotations

import dataclasses

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import DateField, SelectChoice, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length

from marketplace.accounts.models import Role
from marketplace.database import utcnow
from marketplace.payouts.tax import dac7, documents, notice
from marketplace.payouts.tax import services as tax
from marketplace.payouts.tax.schemas import YearSummarySchema
from marketplace.web import downloads
from marketplace.web.api import api_blueprint, endpoint
from marketplace.web.forms import MoneyField, refusals_shown
from marketplace.web.roles import role_required

blueprint = Blueprint("tax", __name__)
api = api_blueprint("tax_api", __name__)


class ThresholdForm(FlaskForm):
    kind = SelectField(_l("Ceiling"),
                       choices=[SelectChoice(kind, label) for kind, label in tax.THRESHOLD_KINDS.items()])
    effective_from = DateField(_l("In force from"), validators=[DataRequired()])
    amount = MoneyField(_l("Amount (EUR)"), max_cents=10**12)
    note = StringField(_l("Legal source"), validators=[Length(max=200)])
    submit = SubmitField(_l("Add the amount"))


def _file(content: str | bytes, filename: str) -> Response:
    return downloads.attachment(content, filename, "application/pdf" if filename.endswith(".pdf") else "text/csv")


# --- The expert's pages ------------------------------------------------------------------------------------

@blueprint.get("/expert/tax")
@role_required("expert")
def expert_tax():
    current = tax.own_summary(current_user, utcnow().astimezone(tax.zone()).year)
    return render_template("payouts/tax.html", years=tax.own_summary_years(current_user), current=current,
                           warnings=tax.own_ceiling_warnings(current_user), notice=notice.notice())


@blueprint.get("/expert/tax/<year>")
@role_required("expert")
def expert_tax_year(year: str):
    return render_template("payouts/tax_year.html", summary=tax.own_summary(current_user, year),
                           notice=notice.notice())


@blueprint.get("/expert/tax/<year>.csv")
@role_required("expert")
def expert_tax_csv(year: str):
    summary = tax.own_summary(current_user, year)
    return _file(documents.summary_csv(summary), f"tax-summary-{summary.year}.csv")


@blueprint.get("/expert/tax/<year>.pdf")
@role_required("expert")
def expert_tax_pdf(year: str):
    summary = tax.own_summary(current_user, year)
    return _file(documents.summary_pdf(summary), f"tax-summary-{summary.year}.pdf")


# --- Finance: DAC7 and the ceilings ------------------------------------------------------------------------

def _finance_page(form: ThresholdForm, status: int = 200):
    year = request.args.get("year") or str(utcnow().astimezone(tax.zone()).year - 1)
    report = dac7.report(current_user, year)
    return render_template("payouts/dac7.html", report=report, form=form,
                           thresholds=tax.list_thresholds(current_user), kinds=tax.THRESHOLD_KINDS), status


@blueprint.get("/finance/tax")
@role_required("finance")
def finance_tax():
    return _finance_page(ThresholdForm())


@blueprint.post("/finance/tax/thresholds")
@role_required("finance")
def add_threshold():
    form = ThresholdForm()
    if form.validate_on_submit():
        with refusals_shown(form, fields={"amount": "amount"}):
            tax.add_threshold(current_user, form.kind.data, form.effective_from.data, form.amount.cents,
                              form.note.data, ip=request.remote_addr)
            flash(gettext("The new amount is saved; it applies from its day on."), "success")
            return redirect(url_for("tax.finance_tax"))
    return _finance_page(form, 422)


@blueprint.get("/finance/tax/dac7-<year>.csv")
@role_required("finance")
def dac7_csv(year: str):
    report = dac7.report(current_user, year, full_accounts=True, ip=request.remote_addr)
    return _file(documents.dac7_csv(report), f"dac7-{report.year}.csv")


# --- The API -----------------------------------------------------------------------------------------------

@api.get("/experts/me/tax-summaries/<year>")
@endpoint("The calling expert's yearly tax summary (art. 242 bis CGI): amounts paid in the calendar year, number "
          "of transactions, bank accounts paid into, and the notice of their tax and social obligations",
          roles=[Role.EXPERT], response=YearSummarySchema(), tags=["payouts"], errors=[422])
def own_tax_summary(actor, year: str):
    summary = tax.own_summary(actor, year)
    return {**dataclasses.asdict(summary), "notice": notice.notice()}


# The payouts domain registers `blueprint` only; the API rides along with it (still under /api/v1).
blueprint.register_blueprint(api)
