"""The brand console's Contacts tab: the list and its search, a contact's page, and merging two contacts."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user
from wtforms import SelectChoice

from marketplace.brands.console import brand_page
from marketplace.brands.services import BrandAccess
from marketplace.errors import Conflict, InvalidInput, NotFound
from marketplace.routing.contacts import history
from marketplace.routing.contacts import services as contacts
from marketplace.routing.contacts.forms import ContactSearchForm, EraseContactForm, MergeForm
from marketplace.routing.labels import CHANNEL_LABELS, STATUS_LABELS
from marketplace.web import params
from marketplace.web.forms import refusals_shown

blueprint = Blueprint("contacts", __name__)


@blueprint.get("/brands/<slug>/contacts")
@brand_page()
def contacts_list(access: BrandAccess):
    brand = access.brand
    form = ContactSearchForm(formdata=request.args)
    results = None
    if form.validate():
        with refusals_shown(form, refusals=InvalidInput):
            results = history.search_contacts(current_user, brand.id, form.q.data, params.page_number())
    return render_template("routing/contacts.html", brand=brand, form=form, results=results,
                           query=form.q.data or ""), 200 if results is not None else 422


def _merge_form(access: BrandAccess, contact_id: int) -> MergeForm:
    form = MergeForm()
    form.other_id.choices = [SelectChoice(row.id, row.label) for row in
                             history.merge_candidates(current_user, access.brand.id, contact_id)]
    return form


def _contact_page(access: BrandAccess, contact_id: int, form: MergeForm | None, status: int = 200):
    detail = history.contact_detail(current_user, access.brand.id, contact_id)
    if form is None and access.is_admin and detail.merged_into_id is None:
        form = _merge_form(access, contact_id)
    can_erase = access.is_admin and detail.merged_into_id is None
    return render_template("routing/contact.html", brand=access.brand, detail=detail, form=form,
                           can_merge=access.is_admin and detail.merged_into_id is None, can_erase=can_erase,
                           erase_form=EraseContactForm(formdata=None) if can_erase else None,
                           status_labels=STATUS_LABELS, channel_labels=CHANNEL_LABELS), status


@blueprint.get("/brands/<slug>/contacts/<int:contact_id>")
@brand_page()
def contact(access: BrandAccess, contact_id: int):
    return _contact_page(access, contact_id, None)


@blueprint.post("/brands/<slug>/contacts/<int:contact_id>/merge")
@brand_page()  # the brand's admins and ops merge; viewers and finance only read (403)
def merge(access: BrandAccess, contact_id: int):
    history.contact_detail(current_user, access.brand.id, contact_id)  # another brand's contact: 404
    form = _merge_form(access, contact_id)
    if form.validate_on_submit():
        keep, other = contact_id, form.other_id.data
        if form.keep.data == "other":
            keep, other = other, contact_id
        with refusals_shown(form, fields={"merge_id": "other_id", "keep_id": "other_id"},
                            refusals=(InvalidInput, Conflict, NotFound)):
            kept = contacts.merge_contacts(current_user, access.brand.id, keep, other)
            flash(gettext("The two contacts are merged: their conversations are all here."), "success")
            return redirect(url_for("contacts.contact", slug=access.brand.slug, contact_id=kept.id))
    return _contact_page(access, contact_id, form, 422)
