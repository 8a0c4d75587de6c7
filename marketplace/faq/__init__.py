"""A brand's knowledge base and its FAQ bot's answers (the bot's turns in a conversation are routing/bot/)."""

from flask import Flask


def init_app(app: Flask) -> None:
    from marketplace.faq import (
        api,
        models,  # noqa: F401 - models: the tables belong to the app's metadata
        views,
    )

    for blueprint in (api.blueprint, views.blueprint):
        app.register_blueprint(blueprint)
