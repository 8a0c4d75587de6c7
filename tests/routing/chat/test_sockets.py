"""The chat over Socket.IO: offers reach the expert, messages reach both sides once, a reconnect catches up."""

from __future__ import annotations

import sqlalchemy as sa

from marketplace.database import db
from marketplace.extensions import socketio
from marketplace.routing.chat import messages
from marketplace.routing.models import ConversationStatus, EndReason, Sender
from marketplace.routing.router import admission, offers
from tests.routing.conftest import arrive, received, visitor_token


def visitor_socket(app, brand, token, conversation_id):
    return socketio.test_client(app, namespace="/visitor",
                                auth={"key": brand.widget_key, "token": token, "conversation_id": conversation_id})


def test_the_offer_reaches_the_expert_and_accepting_tells_the_visitor(app, brand, expert_socket):
    expert, sio = expert_socket
    token = visitor_token()
    conversation = arrive(brand, token)
    offers = received(sio, "offer")
    assert [o["conversation_id"] for o in offers] == [conversation.id]
    assert offers[0]["brand"]["name"] == brand.name and offers[0]["timeout_seconds"] == brand.offer_timeout_seconds
    assert offers[0]["channel"] == "web"  # the card names a messaging app's customer; this one writes on the site
    visitor = visitor_socket(app, brand, token, conversation.id)
    assert visitor.is_connected("/visitor")
    answer = sio.emit("offer_accept", {"offer_id": offers[0]["offer_id"]}, callback=True)
    assert answer["ok"] is True and answer["chat"]["status"] == "active"
    changes = received(visitor, "conversation", "/visitor")
    assert changes[-1]["status"] == "active" and changes[-1]["expert_name"] == expert.display_name
    again = sio.emit("offer_accept", {"offer_id": offers[0]["offer_id"]}, callback=True)
    assert again["ok"] is False and again["error"]
    visitor.disconnect("/visitor")


def test_a_wrong_visitor_token_cannot_connect(app, brand):
    conversation = arrive(brand)
    visitor = visitor_socket(app, brand, visitor_token(), conversation.id)
    assert not visitor.is_connected("/visitor")


def test_messages_reach_the_other_side_once_and_a_resend_is_not_a_duplicate(app, brand, expert_socket):
    expert, sio = expert_socket
    token = visitor_token()
    conversation = arrive(brand, token)
    sio.emit("offer_accept", {"offer_id": received(sio, "offer")[0]["offer_id"]}, callback=True)
    visitor = visitor_socket(app, brand, token, conversation.id)
    visitor.get_received("/visitor")
    sent = visitor.emit("send", {"client_id": "v-1", "body": "Bonjour"}, namespace="/visitor", callback=True)
    assert sent["ok"] and sent["message"]["seq"] == 1
    resent = visitor.emit("send", {"client_id": "v-1", "body": "Bonjour"}, namespace="/visitor", callback=True)
    assert resent["message"] == sent["message"]
    assert [m["seq"] for m in received(sio, "message")] == [1]
    reply = sio.emit("chat_send", {"conversation_id": conversation.id, "client_id": "e-1", "body": "Bonsoir"},
                     callback=True)
    assert reply["ok"] and reply["message"]["seq"] == 2
    got = received(visitor, "message", "/visitor")
    assert [(m["seq"], m["sender"], m["body"]) for m in got] == [(2, "expert", "Bonsoir")]
    visitor.disconnect("/visitor")


def test_a_visitors_refused_message_is_answered_in_their_language_and_stores_nothing(app, brand, expert_socket):
    # The visitor's `send` runs without Flask-SocketIO's request context (sockets.on_frequent_event); its refusal is
    # still worded in the language of the visitor's browser.
    expert, sio = expert_socket
    token = visitor_token()
    conversation = arrive(brand, token)
    sio.emit("offer_accept", {"offer_id": received(sio, "offer")[0]["offer_id"]}, callback=True)
    visitor = socketio.test_client(app, namespace="/visitor", headers={"Accept-Language": "fr-FR,fr;q=0.9"},
                                   auth={"key": brand.widget_key, "token": token, "conversation_id": conversation.id})
    bad = visitor.emit("send", {"client_id": "not valid!", "body": "Bonjour"}, namespace="/visitor", callback=True)
    assert bad == {"ok": False, "error": "Le message n’a pas d’identifiant client valide.", "field": "client_id"}
    admission.end_conversation(conversation.id, ConversationStatus.CLOSED, EndReason.EXPERT, expert_id=expert.id)
    late = visitor.emit("send", {"client_id": "v-1", "body": "Encore là ?"}, namespace="/visitor", callback=True)
    assert late == {"ok": False, "error": "Ce chat est terminé.", "field": "body"}
    assert messages.messages_after(conversation.id, 0) == []
    assert received(sio, "message") == []
    visitor.disconnect("/visitor")


def test_the_sending_socket_has_its_message_in_the_answer_and_the_senders_other_sockets_get_the_event(
        app, client, brand, expert_socket):
    expert, sio = expert_socket
    token = visitor_token()
    conversation = arrive(brand, token)
    sio.emit("offer_accept", {"offer_id": received(sio, "offer")[0]["offer_id"]}, callback=True)
    visitor, visitor_tab = (visitor_socket(app, brand, token, conversation.id) for _ in range(2))
    expert_tab = socketio.test_client(app, flask_test_client=client)
    for socket, namespace in ((visitor, "/visitor"), (visitor_tab, "/visitor"), (expert_tab, "/"), (sio, "/")):
        socket.get_received(namespace)
    visitor.emit("send", {"client_id": "v-1", "body": "Bonjour"}, namespace="/visitor", callback=True)
    sio.emit("chat_send", {"conversation_id": conversation.id, "client_id": "e-1", "body": "Bonsoir"}, callback=True)
    assert [m["seq"] for m in received(visitor, "message", "/visitor")] == [2]
    assert [m["seq"] for m in received(visitor_tab, "message", "/visitor")] == [1, 2]
    assert [m["seq"] for m in received(sio, "message")] == [1]
    assert [m["seq"] for m in received(expert_tab, "message")] == [1, 2]
    for socket, namespace in ((visitor, "/visitor"), (visitor_tab, "/visitor"), (expert_tab, "/")):
        socket.disconnect(namespace)


def test_a_visitors_message_costs_two_statements_once_the_socket_knows_the_expert(app, brand, expert_socket):
    expert, sio = expert_socket
    token = visitor_token()
    conversation = arrive(brand, token)
    sio.emit("offer_accept", {"offer_id": received(sio, "offer")[0]["offer_id"]}, callback=True)
    visitor = visitor_socket(app, brand, token, conversation.id)
    visitor.emit("send", {"client_id": "v-1", "body": "Bonjour"}, namespace="/visitor", callback=True)
    statements = []

    def record(connection, cursor, statement, *args):
        statements.append(statement.split()[0].upper())

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        sent = visitor.emit("send", {"client_id": "v-2", "body": "Encore"}, namespace="/visitor", callback=True)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    assert sent["ok"] and sent["message"]["seq"] == 2
    # Numbered on the conversation row, inserted; nothing read first (savepoints are the tests' own).
    assert [s for s in statements if s not in ("SAVEPOINT", "RELEASE")] == ["UPDATE", "INSERT"]
    assert [m["seq"] for m in received(sio, "message")] == [1, 2]
    visitor.disconnect("/visitor")


def test_a_reconnecting_phone_gets_everything_after_its_last_number_in_order(app, client, brand, expert_socket):
    expert, sio = expert_socket
    conversation = arrive(brand)
    offers.accept_offer(expert.id, received(sio, "offer")[0]["offer_id"])
    messages.post_message(conversation.id, Sender.VISITOR, "v-1", "one")
    sio.disconnect()  # the phone drops; messages keep coming
    messages.post_message(conversation.id, Sender.VISITOR, "v-2", "two")
    messages.post_message(conversation.id, Sender.VISITOR, "v-3", "three")
    back = socketio.test_client(app, flask_test_client=client)
    synced = back.emit("chat_sync", {"conversation_id": conversation.id, "after_seq": 1}, callback=True)
    assert [(m["seq"], m["body"]) for m in synced["messages"]] == [(2, "two"), (3, "three")]
    back.disconnect()


def test_typing_is_relayed_to_the_other_side(app, brand, expert_socket):
    expert, sio = expert_socket
    token = visitor_token()
    conversation = arrive(brand, token)
    offer = received(sio, "offer")[0]
    visitor = visitor_socket(app, brand, token, conversation.id)
    assert visitor.emit("typing", {}, namespace="/visitor", callback=True) == {"ok": True}
    assert received(sio, "typing") == []  # still waiting: nobody to tell
    sio.emit("offer_accept", {"offer_id": offer["offer_id"]}, callback=True)
    statements = []

    def record(connection, cursor, statement, *args):
        statements.append(" ".join(statement.split()))

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        assert visitor.emit("typing", {}, namespace="/visitor", callback=True) == {"ok": True}
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    assert received(sio, "typing")[-1] == {"conversation_id": conversation.id, "sender": "visitor"}
    # The conversation's expert alone (not the whole row), then their user, whom the socket keeps from then on;
    # savepoints are the tests' own.
    reads = [s for s in statements if s.split()[0] not in ("SAVEPOINT", "RELEASE", "ROLLBACK")]
    assert len(reads) == 2 and reads[0].startswith("SELECT conversations.expert_id FROM conversations")
    sio.emit("chat_typing", {"conversation_id": conversation.id}, callback=True)
    assert received(visitor, "typing", "/visitor")[-1]["sender"] == "expert"
    visitor.disconnect("/visitor")


def test_status_tells_the_visitor_their_place_in_the_queue(app, session, brand):
    token = visitor_token()
    arrive(brand)
    conversation = arrive(brand, token)
    visitor = visitor_socket(app, brand, token, conversation.id)
    status = visitor.emit("status", {}, namespace="/visitor", callback=True)
    assert status["ok"] and status["conversation"]["status"] == "waiting"
    assert status["conversation"]["position"] == 2
    visitor.disconnect("/visitor")
