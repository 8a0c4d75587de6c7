"""Pages for finance staff."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template
from flask_login import current_user

from marketplace.brands import services as brands
from marketplace.experts import services as experts
from marketplace.experts.models import ExpertStatus
from marketplace.payouts import earnings
from marketplace.web.roles import role_required

blueprint = Blueprint("payouts", __name__, url_prefix="/finance")
expert_pages = Blueprint("earnings", __name__)


@expert_pages.get("/expert/earnings")
@role_required("expert")
def own_earnings():
    summary = earnings.own_earnings(current_user)
    names = {brand.id: brand.name for brand in brands.brands_by_id({line.brand_id for line in summary.by_brand}
                                                                     | {e.brand_id for e in summary.recent}).values()}
    return render_template("payouts/earnings.html", summary=summary, brand_names=names,
                           hold_days=current_app.config["PAYOUT_HOLD_DAYS"])


@blueprint.get("/")
@role_required("finance")
def home():
    return render_template(
        "payouts/home.html",
        brands=brands.visible_brands(current_user),
        approved_experts=experts.count_by_status()[ExpertStatus.APPROVED],
    )
