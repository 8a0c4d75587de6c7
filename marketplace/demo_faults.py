"""The demo's fault switch (`marketplace serve --demo` only): `POST /dev/faults/<name>/<times>` makes the next
`times` checks of that place fail (shared/faults.py), so a person can watch the failure handled: the FAQ bot's answering
(`faq.answer`) failing hands the visitor over to an expert."""

from __future__ import annotations

from flask import Blueprint, Flask, abort

from marketplace.extensions import csrf
from marketplace.shared import faults

PLACES = ("faq.answer",)
blueprint = Blueprint("demo_faults", __name__, url_prefix="/dev/faults")
csrf.exempt(blueprint)  # a loopback demo's switch, for the browser tests; never registered outside the demo


@blueprint.get("")
def armed():
    return faults.armed()


@blueprint.post("/<name>/<int:times>")
def arm(name: str, times: int):
    if name not in PLACES:
        abort(404)
    if times > 100:
        return {"errors": {"times": ["Give a whole number from 0 to 100."]}}, 422
    faults.arm(name, times)
    return faults.armed()


def install(app: Flask) -> None:
    app.register_blueprint(blueprint)
