"""The expert's way to Stripe: the onboarding page that creates their connected account and sends them there."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, request, url_for
from flask_babel import gettext
from flask_login import current_user

from marketplace.payouts.forms import ActionForm
from marketplace.payouts.rails import connect
from marketplace.web.forms import refusals_shown
from marketplace.web.roles import role_required

blueprint = Blueprint("rails", __name__)


@blueprint.route("/expert/earnings/stripe", methods=["GET", "POST"])
@role_required("expert")
def stripe_onboarding():
    """Send the expert to Stripe's onboarding (a POST from the page; a GET when Stripe's link expired)."""
    if request.method == "POST" and not ActionForm().validate_on_submit():
        abort(400, description=gettext("The form expired: open the page again."))
    if request.method == "GET" and connect.own_account(current_user) is None:  # a link only resumes
        return redirect(url_for("earnings.own_earnings"))
    with refusals_shown():
        address = connect.start_onboarding(
            current_user, refresh_url=url_for("rails.stripe_onboarding", _external=True),
            return_url=url_for("earnings.own_earnings", stripe="done", _external=True))
        return redirect(address)
    return redirect(url_for("earnings.own_earnings"))
