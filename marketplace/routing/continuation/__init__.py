"""E-mail continuation: reaching a visitor who left (the digest of replies, the resume link, replies by e-mail)."""

from flask import Flask


def init_app(app: Flask) -> None:
    from marketplace.routing import delivery
    from marketplace.routing.continuation import api, digest, views
    from marketplace.scheduler import Job, register_job

    for blueprint in (api.blueprint, api.widget_blueprint, views.blueprint):
        app.register_blueprint(blueprint)
    delivery.register(delivery.Reacher("email", delivery.Side.VISITOR, digest.reaches, digest.note_reply))
    register_job(app, Job("continuation-digest", digest.send_due, "interval",
                          {"seconds": max(1, min(10, app.config["CONTINUATION_DIGEST_SECONDS"]))}))
