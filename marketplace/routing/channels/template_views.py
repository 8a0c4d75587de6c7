"""The brand's page of a WhatsApp number's message templates: the list, a form to record one, and deleting one.

Its admins record and delete (the same service as the API, templates.py); the brand's other people only read it.
A refusal shows beside its field, on the page as it was filled in.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField, StringField, TextAreaField

from marketplace.brands.console import brand_page
from marketplace.brands.services import BrandAccess
from marketplace.errors import Conflict, InvalidInput
from marketplace.routing.channels import templates
from marketplace.routing.models import TemplateCategory, TemplateStatus
from marketplace.web.forms import refusals_shown

blueprint = Blueprint("channel_templates", __name__)
PAGE = "/brands/<slug>/channels/<int:channel_id>/templates"  # below the brand's channel page, as every console page


class TemplateForm(FlaskForm):
    """A template as WhatsApp Manager shows it; the service checks every field and names the one it refuses."""

    name = StringField(_l("Name"))
    language = StringField(_l("Language code"), default="en_US")
    category = SelectField(_l("Category"), choices=[
        SelectChoice(TemplateCategory.UTILITY.value, _l("Utility")),
        SelectChoice(TemplateCategory.MARKETING.value, _l("Marketing")),
        SelectChoice(TemplateCategory.AUTHENTICATION.value, _l("Authentication"))])
    body = TextAreaField(_l("Text, with {{1}}, {{2}}... where the parameters go"))
    status = SelectField(_l("Meta's review"), choices=[
        SelectChoice(TemplateStatus.APPROVED.value, _l("Approved")),
        SelectChoice(TemplateStatus.PENDING.value, _l("Pending")),
        SelectChoice(TemplateStatus.REJECTED.value, _l("Rejected"))])


def _page(access: BrandAccess, channel_id: int, form: TemplateForm, status: int = 200):
    shown = templates.list_templates(current_user, access.brand.id, channel_id)
    return render_template("routing/channel_templates.html", brand=access.brand, channel_id=channel_id,
                           templates=shown, form=form, can_edit=access.is_admin, delete_form=FlaskForm()), status


@blueprint.get(PAGE)
@brand_page()
def page(access: BrandAccess, channel_id: int):
    return _page(access, channel_id, TemplateForm())


@blueprint.post(PAGE)
@brand_page()
def create(access: BrandAccess, channel_id: int):
    brand_id = access.brand.id
    form = TemplateForm()
    if not form.validate_on_submit():
        abort(400)
    with refusals_shown(form, refusals=(InvalidInput, Conflict)):
        created = templates.create_template(current_user, brand_id, channel_id, {
            "name": form.name.data, "language": form.language.data, "category": form.category.data,
            "body": form.body.data, "status": form.status.data})
        flash(gettext("The template %(name)s is recorded.", name=created.name), "success")
        return redirect(url_for("channel_templates.page", slug=access.brand.slug, channel_id=channel_id))
    return _page(access, channel_id, form, 422)


@blueprint.post(f"{PAGE}/<int:template_id>/delete")
@brand_page()
def delete(access: BrandAccess, channel_id: int, template_id: int):
    if not FlaskForm().validate_on_submit():
        abort(400)
    templates.delete_template(current_user, access.brand.id, channel_id, template_id)
    flash(gettext("The template is deleted."), "success")
    return redirect(url_for("channel_templates.page", slug=access.brand.slug, channel_id=channel_id))
