"""Web Push for visitors: a visitor's browser that accepted notifications is a way back, and an expert's reply written
while they are away reaches it as a push that reopens the conversation."""

from flask import Flask


def init_app(app: Flask) -> None:
    from marketplace.routing import events
    from marketplace.routing.visitor_push import api, delivery, views

    for blueprint in (api.blueprint, views.blueprint):
        app.register_blueprint(blueprint)
    events.on_message_for_absent_visitor(delivery.deliver_to_absent_visitor)
