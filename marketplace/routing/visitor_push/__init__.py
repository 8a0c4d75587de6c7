"""Web Push for visitors: a visitor's browser that accepted notifications is a way back, and an expert's reply written
while they are away reaches it as a push that reopens the conversation."""

from flask import Flask


def init_app(app: Flask) -> None:
    from marketplace.routing import delivery
    from marketplace.routing.visitor_push import api, views
    from marketplace.routing.visitor_push.delivery import deliver_to_absent_visitor

    for blueprint in (api.blueprint, views.blueprint):
        app.register_blueprint(blueprint)
    delivery.register(delivery.Reacher("web_push", delivery.Side.VISITOR, delivery.expert_reply_to_away_visitor,
                                       deliver_to_absent_visitor))
