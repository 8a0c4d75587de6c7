"""Erasing a contact from the brand console's contact page, once the admin confirmed it."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user

from marketplace.brands.console import brand_page
from marketplace.brands.services import BrandAccess
from marketplace.errors import Conflict
from marketplace.routing.contacts import history
from marketplace.routing.contacts.forms import EraseContactForm
from marketplace.routing.labels import CHANNEL_LABELS, STATUS_LABELS
from marketplace.routing.retention import services as retention
from marketplace.web.forms import refusals_shown

blueprint = Blueprint("retention", __name__)


@blueprint.post("/brands/<slug>/contacts/<int:contact_id>/erase")
@brand_page()  # the brand's admins and ops erase; viewers and finance only read (the service answers 403)
def erase_contact(access: BrandAccess, contact_id: int):
    detail = history.contact_detail(current_user, access.brand.id, contact_id)  # another brand's contact: 404
    form = EraseContactForm()
    if form.validate_on_submit():
        with refusals_shown(form, fields={"contact_id": "confirm"}, refusals=Conflict):
            erased = retention.erase_contact(current_user, access.brand.id, contact_id, ip=request.remote_addr)
            flash(gettext("The contact is erased: %(count)s of their conversations no longer hold their text, files "
                          "or identifiers.", count=erased.conversations), "success")
            return redirect(url_for("contacts.contacts_list", slug=access.brand.slug))
    return render_template("routing/contact.html", brand=access.brand, detail=detail, form=None,
                           erase_form=form, can_merge=False, can_erase=access.is_admin,
                           status_labels=STATUS_LABELS, channel_labels=CHANNEL_LABELS), 422
