"""Pages for finance staff."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from marketplace.brands import services as brands
from marketplace.experts import services as experts
from marketplace.experts.models import ExpertStatus
from marketplace.web.roles import role_required

blueprint = Blueprint("payouts", __name__, url_prefix="/finance")


@blueprint.get("/")
@role_required("finance")
def home():
    return render_template(
        "payouts/home.html",
        brands=brands.visible_brands(current_user),
        approved_experts=experts.count_by_status()[ExpertStatus.APPROVED],
    )
