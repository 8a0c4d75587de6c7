"""The brand's FAQ bot in a conversation: it answers first, labelled as automated, and steps aside for a person."""

from flask import Flask


def init_app(app: Flask) -> None:
    from marketplace.routing import delivery
    from marketplace.routing.bot import api, services
    from marketplace.routing.models import ConversationStatus, Sender
    from marketplace.scheduler import Job, register_job

    def read(message, status) -> None:
        if message.sender == Sender.VISITOR and status == ConversationStatus.BOT:
            services.read_message(message.conversation_id, message.seq)

    app.register_blueprint(api.blueprint)
    app.register_blueprint(api.expert_blueprint)
    delivery.register_after_stored("faq-bot", read)
    register_job(app, Job("bot-sweep", services.sweep, "interval", {"seconds": 10}))
