"""Conversations: the widget at the door, the router, the real-time chat, the brand's console, left messages,
contacts, and reaching a visitor who left (by e-mail, by Web Push)."""

from flask import Flask


def init_app(app: Flask) -> None:
    from marketplace.experts.own_data import register_closure_listener, register_export_section
    from marketplace.experts.presence import register_presence_listener
    from marketplace.routing import jobs, models, personal_data  # noqa: F401 - models: tables
    from marketplace.routing.attachments import api as attachments_api
    from marketplace.routing.attachments import views as attachments_views
    from marketplace.routing.bot import init_app as init_bot
    from marketplace.routing.channels import init_app as init_channels
    from marketplace.routing.chat import api as chat_api
    from marketplace.routing.chat import sockets as chat_sockets
    from marketplace.routing.chat import views as chat_views
    from marketplace.routing.console import api as console_api
    from marketplace.routing.console import expert_stats
    from marketplace.routing.console import views as console_views
    from marketplace.routing.contacts import api as contacts_api
    from marketplace.routing.contacts import views as contacts_views
    from marketplace.routing.continuation import init_app as init_continuation
    from marketplace.routing.door import api as door_api
    from marketplace.routing.door import sockets as door_sockets
    from marketplace.routing.door import views as door_views
    from marketplace.routing.left_messages import api as left_messages_api
    from marketplace.routing.left_messages import views as left_messages_views
    from marketplace.routing.ratings import api as ratings_api
    from marketplace.routing.ratings import views as ratings_views
    from marketplace.routing.retention import init_app as init_retention
    from marketplace.routing.router import offers
    from marketplace.routing.visitor_push import init_app as init_visitor_push
    from marketplace.scheduler import register_job

    for blueprint in (door_views.blueprint, door_api.blueprint, chat_views.blueprint, chat_api.blueprint,
                      console_views.blueprint, console_api.blueprint, left_messages_views.blueprint,
                      left_messages_api.blueprint, left_messages_api.widget_blueprint, attachments_api.blueprint,
                      attachments_api.widget_blueprint, attachments_views.blueprint,
                      contacts_views.blueprint, contacts_api.blueprint, ratings_views.blueprint,
                      ratings_api.blueprint):
        app.register_blueprint(blueprint)
    chat_sockets.register()
    door_sockets.register()
    register_presence_listener(app, offers.on_presence_changed)
    for name in ("offers", "conversations", "messages", "ratings", "rating_contests", "visitor_reports"):
        register_export_section(app, name, getattr(personal_data, name))
    register_closure_listener(app, personal_data.end_held_chats)
    expert_stats.register(app)
    for job in jobs.jobs(app):
        register_job(app, job)
    init_continuation(app)
    init_visitor_push(app)
    init_channels(app)
    init_bot(app)
    init_retention(app)
