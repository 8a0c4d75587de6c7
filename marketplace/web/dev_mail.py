"""The mails sent since start, for a developer to read and click through (a letter opener).

Registered outside production only, where `mail.init_app` keeps the mails (in this process's memory).
"""

from __future__ import annotations

import ipaddress

from flask import Blueprint, abort, current_app, render_template, request

blueprint = Blueprint("dev_mail", __name__, url_prefix="/dev")


@blueprint.get("/mail")
def sent_mails():
    if not _from_this_machine():
        abort(404)  # reset links and invitations are in there: only the developer's own browser may read them
    mails = current_app.extensions["sent_mails"].newest_first()
    return render_template("web/dev_mail.html", mails=mails)


def _from_this_machine() -> bool:
    try:
        return ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        return False
