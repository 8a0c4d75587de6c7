"""The brand console's FAQ bot tab: the bot's settings, the knowledge base (search, add, edit, delete after a
confirmation, CSV import and export), a box to try a question, and the experts' proposals to approve or reject.

Any of the brand's people read it and try questions; its admins change it (others' forms get 403). The same
services as the API (entries.py); a refusal shows beside its field, on the page as it was filled in.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm

from marketplace.brands.console import brand_page
from marketplace.brands.models import Brand
from marketplace.brands.services import BrandAccess
from marketplace.errors import Conflict, InvalidInput
from marketplace.faq import cleaning, entries
from marketplace.faq.forms import (
    ApproveForm,
    AskForm,
    ConfirmForm,
    EntryForm,
    ImportForm,
    SearchForm,
    SettingsForm,
)
from marketplace.faq.models import FaqEntry
from marketplace.shared import money
from marketplace.web import downloads, params
from marketplace.web.forms import refusals_shown, show_error

blueprint = Blueprint("faq_console", __name__)
PAGE = "/brands/<slug>/faq"
REASONS = {
    "answered": _l("it answers"),
    "low_confidence": _l("not sure enough: it hands over to an expert"),
    "asked_for_person": _l("the visitor asks for a person: it hands over"),
    "order_specific": _l("about one order of theirs: it hands over"),
    "complaint": _l("a complaint: it hands over"),
    "chit_chat": _l("no question to answer: it hands over"),
    "empty_base": _l("no entry in use yet: it hands over"),
}


def _settings_form(brand: Brand, settings: entries.BotSettings, *, posted: bool = False) -> SettingsForm:
    shown = {"bot_enabled": settings.bot_enabled, "threshold": round(settings.threshold * 100),
             "resolve_after_minutes": settings.resolve_after_minutes,
             "credit": money.plain(settings.credit_cents, brand.currency), "synonyms": settings.synonyms}
    form = SettingsForm(data=shown) if posted else SettingsForm(formdata=None, data=shown)
    form.credit.currency = brand.currency
    form.credit.label.text = gettext("Expert's credit per resolution (%(currency)s)", currency=brand.currency)
    return form


def _approve_form(entry: FaqEntry, *, posted: bool = False) -> ApproveForm:
    prefix = f"proposal-{entry.id}-"
    if posted:
        return ApproveForm(prefix=prefix)
    return ApproveForm(formdata=None, prefix=prefix, data={
        "ref": entry.ref, "lang": entry.lang, "question": entry.question, "answer": entry.answer})


def _page(access: BrandAccess, status: int = 200, **forms):
    """The tab, with the forms given as they were sent (a refusal shown on them), the others fresh."""
    brand = access.brand
    search = SearchForm(formdata=request.args)
    results = None
    if search.validate():
        results = entries.list_entries(current_user, brand.id, language=search.lang.data or None,
                                       q=search.q.data or None, page=params.page_number())
    ask, verdict = AskForm(formdata=request.args), None
    if ask.ask.data and ask.validate():
        with refusals_shown(ask, fields={"text": "ask", "lang": "ask_lang"}, refusals=InvalidInput):
            verdict = entries.try_question(current_user, brand.id, ask.ask.data, ask.ask_lang.data or None)
    settings = entries.get_settings(current_user, brand.id)
    proposals = entries.list_proposals(current_user, brand.id)
    approve_forms = forms.get("approve_forms", {})
    for proposal in proposals:
        approve_forms.setdefault(proposal.entry.id, _approve_form(proposal.entry))
    return render_template(
        "faq/console.html", brand=brand, can_edit=access.is_admin, search=search, results=results, ask=ask,
        verdict=verdict, reasons=REASONS, settings=settings, proposals=proposals, approve_forms=approve_forms,
        settings_form=forms.get("settings_form") or _settings_form(brand, settings),
        entry_form=forms.get("entry_form") or EntryForm(formdata=None),
        import_form=forms.get("import_form") or ImportForm(formdata=None),
        query={"q": search.q.data or None, "lang": search.lang.data or None}), status


def _back(brand: Brand):
    return redirect(url_for("faq_console.page", slug=brand.slug))


@blueprint.get(PAGE)
@brand_page()
def page(access: BrandAccess):
    return _page(access)


@blueprint.post(f"{PAGE}/settings")
@brand_page()
def save_settings(access: BrandAccess):
    brand = access.brand
    form = _settings_form(brand, entries.get_settings(current_user, brand.id), posted=True)
    if form.validate_on_submit():
        with refusals_shown(form, fields={"credit_cents": "credit"}, refusals=InvalidInput):
            entries.update_settings(current_user, brand.id, {
                "bot_enabled": form.bot_enabled.data, "threshold": form.threshold.data / 100,
                "resolve_after_minutes": form.resolve_after_minutes.data, "credit_cents": form.credit.cents,
                "synonyms": form.synonyms.data or ""})
            flash(gettext("The bot's settings are saved."), "success")
            return _back(brand)
    return _page(access, 422, settings_form=form)


@blueprint.post(f"{PAGE}/entries")
@brand_page()
def create_entry(access: BrandAccess):
    form = EntryForm()
    if form.validate_on_submit():
        with refusals_shown(form, refusals=(InvalidInput, Conflict)):
            created = entries.create_entry(current_user, access.brand.id, form.values())
            flash(gettext("The entry %(ref)s is added.", ref=created.ref), "success")
            return _back(access.brand)
    return _page(access, 422, entry_form=form)


def _entry_page(access: BrandAccess, entry: FaqEntry, form: EntryForm | None, *, confirm: bool = False,
                status: int = 200):
    if form is None:
        form = EntryForm(formdata=None, data={"ref": entry.ref, "lang": entry.lang, "question": entry.question,
                                              "answer": entry.answer, "tags": "; ".join(entry.tags or ()),
                                              "active": entry.active})
    return render_template("faq/entry.html", brand=access.brand, entry=entry, form=form, can_edit=access.is_admin,
                           confirm_form=ConfirmForm(formdata=None) if confirm else None), status


@blueprint.route(f"{PAGE}/entries/<int:entry_id>", methods=["GET", "POST"])
@brand_page()
def entry(access: BrandAccess, entry_id: int):
    shown = entries.get_entry(current_user, access.brand.id, entry_id)  # another brand's: 404
    if request.method == "GET":
        return _entry_page(access, shown, None)
    form = EntryForm()
    if form.validate_on_submit():
        with refusals_shown(form, refusals=(InvalidInput, Conflict)):
            changed = entries.update_entry(current_user, access.brand.id, entry_id, form.values())
            flash(gettext("The entry %(ref)s is saved.", ref=changed.ref), "success")
            return _back(access.brand)
    return _entry_page(access, shown, form, status=422)


@blueprint.route(f"{PAGE}/entries/<int:entry_id>/delete", methods=["GET", "POST"])
@brand_page()
def delete_entry(access: BrandAccess, entry_id: int):
    """Ask first (GET), then delete (POST)."""
    shown = entries.get_entry(current_user, access.brand.id, entry_id)
    if not access.is_admin:  # asking is for those who may answer
        abort(403)
    if request.method == "GET":
        return _entry_page(access, shown, None, confirm=True)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    entries.delete_entry(current_user, access.brand.id, entry_id)
    flash(gettext("The entry %(ref)s is deleted.", ref=shown.ref), "success")
    return _back(access.brand)


@blueprint.get(f"{PAGE}/entries.csv")
@brand_page()
def export_entries(access: BrandAccess):
    export = entries.export_csv(current_user, access.brand.id)
    return downloads.attachment(export.content, export.filename, "text/csv")


@blueprint.post(f"{PAGE}/import")
@brand_page()
def import_entries(access: BrandAccess):
    form = ImportForm()
    if form.validate_on_submit():
        if not form.file.data:
            form.file.errors = [gettext("Choose a CSV file.")]
        else:
            with refusals_shown(form, refusals=InvalidInput):
                report = entries.import_csv(current_user, access.brand.id,
                                            form.file.data.read(cleaning.CSV_MAX_BYTES + 1))
                flash(gettext("Imported: %(created)d added, %(updated)d changed, %(unchanged)d unchanged.",
                              created=report.created, updated=report.updated, unchanged=report.unchanged),
                      "success")
                return _back(access.brand)
    return _page(access, 422, import_form=form)


@blueprint.post(f"{PAGE}/proposals/<int:entry_id>/approve")
@brand_page()
def approve(access: BrandAccess, entry_id: int):
    form = ApproveForm(prefix=f"proposal-{entry_id}-")
    if form.validate_on_submit():
        try:
            with refusals_shown(form, refusals=InvalidInput):
                approved = entries.approve_proposal(current_user, access.brand.id, entry_id, {
                    "ref": form.ref.data, "lang": form.lang.data, "question": form.question.data,
                    "answer": form.answer.data})
                flash(gettext("The entry %(ref)s is in the base.", ref=approved.ref), "success")
                return _back(access.brand)
        except Conflict as error:
            if error.field != "ref":  # decided meanwhile: it is no longer among the proposals
                flash(str(error.message), "error")
                return _back(access.brand)
            show_error(form, error)
    return _page(access, 422, approve_forms={entry_id: form})


@blueprint.post(f"{PAGE}/proposals/<int:entry_id>/reject")
@brand_page()
def reject(access: BrandAccess, entry_id: int):
    if not FlaskForm().validate_on_submit():
        abort(400)
    with refusals_shown(refusals=Conflict):
        entries.reject_proposal(current_user, access.brand.id, entry_id)
        flash(gettext("The proposal is rejected."), "success")
    return _back(access.brand)
