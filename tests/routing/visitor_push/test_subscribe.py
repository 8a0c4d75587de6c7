"""A visitor's browser takes Web Push for their own conversation: checked as a person's device is, only for the
visitor of that conversation and that brand, through the widget or the opt-in page's short-lived link."""

from __future__ import annotations

import datetime as dt
import os
import re
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric import ec

from marketplace.database import db, utcnow
from marketplace.errors import Conflict
from marketplace.routing.continuation import tokens
from marketplace.routing.door import services as conversations
from marketplace.routing.models import Conversation, VisitorPushSubscription
from marketplace.routing.visitor_push import services
from tests.factories import BrandFactory
from tests.notifications.conftest import BrowserKeys
from tests.routing.conftest import visitor_token
from tests.routing.visitor_push.conftest import subscribe


def api(brand) -> str:
    return f"/api/widget/{brand.widget_key}"


def widget_call(client, method: str, path: str, token: str | None, **kwargs):
    headers = {"X-Visitor-Token": token} if token else {}
    return client.open(path, method=method, headers=headers, **kwargs)


def subscription_body(push_service, keys, path: str = "/visitor-browser") -> dict:
    return {"endpoint": push_service.url(path), "keys": {"p256dh": keys.p256dh, "auth": keys.auth}}


def stored(conversation_id: int) -> list[VisitorPushSubscription]:
    return list(db.session.scalars(sa.select(VisitorPushSubscription)
                                   .where(VisitorPushSubscription.conversation_id == conversation_id)))


def test_the_widget_subscribes_its_conversation_and_the_conversation_says_so(client, brand, chat, push_service,
                                                                              browser_keys):
    before = widget_call(client, "GET", f"{api(brand)}/conversations/{chat.id}", chat.visitor_token).get_json()
    assert before["push_enabled"] is False
    answer = widget_call(client, "POST", f"{api(brand)}/conversations/{chat.id}/push-subscriptions",
                         chat.visitor_token, json=subscription_body(push_service, browser_keys))
    assert answer.status_code == 201
    assert answer.get_json()["push_enabled"] is True and answer.get_json()["id"] == chat.id
    [row] = stored(chat.id)
    assert (row.endpoint, row.p256dh, row.auth) == (push_service.url("/visitor-browser"), browser_keys.p256dh,
                                                    browser_keys.auth)
    assert db.session.get(Conversation, chat.id, populate_existing=True).visitor_push_at is not None


@pytest.mark.parametrize("endpoint", ["ftp://push.example.com/x", "http://push.example.com/x", "not an address",
                                      "https://user@push.example.com/x", "https://push.example.com:99999/x"])
def test_an_endpoint_that_is_not_a_push_services_https_address_is_refused_naming_it(client, brand, chat,
                                                                                    browser_keys, endpoint):
    body = {"endpoint": endpoint, "keys": {"p256dh": browser_keys.p256dh, "auth": browser_keys.auth}}
    answer = widget_call(client, "POST", f"{api(brand)}/conversations/{chat.id}/push-subscriptions",
                         chat.visitor_token, json=body)
    assert answer.status_code == 422
    assert "endpoint" in answer.get_json()["errors"]
    assert stored(chat.id) == []
    assert db.session.get(Conversation, chat.id, populate_existing=True).visitor_push_at is None


def test_a_key_that_is_no_p256_point_is_refused_naming_it(client, brand, chat, push_service, browser_keys):
    body = subscription_body(push_service, browser_keys)
    body["keys"]["p256dh"] = "B" + "A" * 86  # the right length, but no point on the curve
    answer = widget_call(client, "POST", f"{api(brand)}/conversations/{chat.id}/push-subscriptions",
                         chat.visitor_token, json=body)
    assert answer.status_code == 422
    assert list(answer.get_json()["errors"]) == ["keys.p256dh"]
    assert stored(chat.id) == []


def test_another_visitors_token_or_another_brands_key_cannot_subscribe(client, session, brand, chat, push_service,
                                                                       browser_keys):
    other_brand = BrandFactory()
    session.commit()
    body = subscription_body(push_service, browser_keys)
    stranger = widget_call(client, "POST", f"{api(brand)}/conversations/{chat.id}/push-subscriptions",
                           visitor_token(), json=body)
    wrong_brand = widget_call(client, "POST", f"{api(other_brand)}/conversations/{chat.id}/push-subscriptions",
                              chat.visitor_token, json=body)
    no_token = widget_call(client, "POST", f"{api(brand)}/conversations/{chat.id}/push-subscriptions", None, json=body)
    assert (stranger.status_code, wrong_brand.status_code) == (404, 404)
    assert no_token.status_code == 422 and "visitor_token" in no_token.get_json()["errors"]
    assert stored(chat.id) == []


def test_the_same_browser_again_updates_its_subscription_instead_of_doubling_it(session, brand, chat, push_service,
                                                                              browser_keys):
    subscribe(brand, chat, push_service, browser_keys)
    renewed = BrowserKeys(ec.generate_private_key(ec.SECP256R1()), os.urandom(16))
    subscribe(brand, chat, push_service, renewed)
    [row] = stored(chat.id)
    assert (row.p256dh, row.auth) == (renewed.p256dh, renewed.auth)


def test_a_conversation_takes_at_most_five_browsers(session, brand, chat, push_service, browser_keys):
    for number in range(services.MAX_BROWSERS):
        subscribe(brand, chat, push_service, browser_keys, f"/browser-{number}")
    with pytest.raises(Conflict) as refused:
        subscribe(brand, chat, push_service, browser_keys, "/one-more")
    assert refused.value.field == "endpoint"
    assert len(stored(chat.id)) == services.MAX_BROWSERS


def test_an_ended_chat_takes_no_subscription(client, brand, chat, push_service, browser_keys):
    conversations.leave(brand.widget_key, chat.visitor_token, chat.id)
    answer = widget_call(client, "POST", f"{api(brand)}/conversations/{chat.id}/push-subscriptions",
                         chat.visitor_token, json=subscription_body(push_service, browser_keys))
    assert answer.status_code == 409 and "endpoint" in answer.get_json()["errors"]
    assert stored(chat.id) == []


def test_turning_it_off_forgets_the_browsers_and_the_way_back(client, brand, chat, push_service, browser_keys):
    subscribe(brand, chat, push_service, browser_keys, "/one")
    subscribe(brand, chat, push_service, browser_keys, "/two")
    one = widget_call(client, "DELETE", f"{api(brand)}/conversations/{chat.id}/push-subscriptions",
                      chat.visitor_token, json={"endpoint": push_service.url("/one")})
    assert one.status_code == 200 and one.get_json()["push_enabled"] is True
    assert [row.endpoint for row in stored(chat.id)] == [push_service.url("/two")]
    stranger = widget_call(client, "DELETE", f"{api(brand)}/conversations/{chat.id}/push-subscriptions",
                           visitor_token(), json={})
    assert stranger.status_code == 404 and len(stored(chat.id)) == 1
    everything = widget_call(client, "DELETE", f"{api(brand)}/conversations/{chat.id}/push-subscriptions",
                             chat.visitor_token, json={})
    assert everything.status_code == 200 and everything.get_json()["push_enabled"] is False
    assert stored(chat.id) == []
    assert db.session.get(Conversation, chat.id, populate_existing=True).visitor_push_at is None


# The opt-in page: the widget in the brand's frame cannot ask for the permission, so a page of ours does.

def opt_in_link(client, brand, chat) -> str:
    answer = widget_call(client, "POST", f"{api(brand)}/conversations/{chat.id}/push-opt-in", chat.visitor_token)
    assert answer.status_code == 200
    return answer.get_json()["url"]


def test_the_opt_in_page_subscribes_with_its_links_token_never_the_visitors(client, brand, chat, push_service,
                                                                          browser_keys):
    url = opt_in_link(client, brand, chat)
    assert url.startswith(f"/widget/{brand.widget_key}/notify?t=")
    assert chat.visitor_token not in url
    page = client.get(url)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert chat.visitor_token not in html and "data-push-page" in html and 'data-testid="push-allow"' in html
    assert page.headers["Referrer-Policy"] == "no-referrer" and page.headers["Cache-Control"] == "no-store"
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    token = parse_qs(urlsplit(url).query)["t"][0]
    answer = client.post(f"{api(brand)}/push-subscriptions",
                         json={"token": token, **subscription_body(push_service, browser_keys)})
    assert answer.status_code == 201
    assert answer.get_json() == {"conversation_id": chat.id, "push_enabled": True}
    assert [row.endpoint for row in stored(chat.id)] == [push_service.url("/visitor-browser")]


def test_a_forged_expired_or_other_brands_opt_in_link_subscribes_nothing(client, session, brand, chat, push_service,
                                                                          browser_keys):
    other_brand = BrandFactory()
    session.commit()
    good = parse_qs(urlsplit(opt_in_link(client, brand, chat)).query)["t"][0]
    expired = tokens.push_opt_in_token(chat.id, chat.conversation.visitor_token_hash, services.OPT_IN_LIFETIME,
                                       utcnow() - dt.timedelta(hours=1))
    forged = good[:-2] + ("aa" if not good.endswith("aa") else "bb")
    resume = tokens.push_resume_token(chat.id, chat.conversation.visitor_token_hash, utcnow())  # another kind
    for key, token in ((brand.widget_key, expired), (brand.widget_key, forged), (brand.widget_key, resume),
                       (other_brand.widget_key, good)):
        page = client.get(f"/widget/{key}/notify?t={token}")
        assert page.status_code == 404 and "data-push-page" not in page.get_data(as_text=True)
        answer = client.post(f"/api/widget/{key}/push-subscriptions",
                             json={"token": token, **subscription_body(push_service, browser_keys)})
        assert answer.status_code == 404
    assert stored(chat.id) == []


def test_no_opt_in_link_for_an_ended_chat_or_another_visitor(client, brand, chat):
    stranger = widget_call(client, "POST", f"{api(brand)}/conversations/{chat.id}/push-opt-in", visitor_token())
    assert stranger.status_code == 404
    conversations.leave(brand.widget_key, chat.visitor_token, chat.id)
    ended = widget_call(client, "POST", f"{api(brand)}/conversations/{chat.id}/push-opt-in", chat.visitor_token)
    assert ended.status_code == 409


def test_the_widget_frame_offers_notifications_with_the_sites_push_key(client, brand):
    html = client.get(f"/widget/{brand.widget_key}").get_data(as_text=True)
    assert 'data-testid="push-opt-in"' in html and "js/widget_push.js" in html
    assert re.search(r'data-push-key="[A-Za-z0-9_-]{87}"', html)


def test_the_calls_are_in_the_api_description(client):
    paths = client.get("/api/openapi.json").get_json()["paths"]
    assert {"post", "delete"} <= set(paths["/api/widget/{key}/conversations/{conversation_id}/push-subscriptions"])
    assert "post" in paths["/api/widget/{key}/conversations/{conversation_id}/push-opt-in"]
    assert "post" in paths["/api/widget/{key}/push-subscriptions"]


def test_the_opt_in_page_and_the_widgets_offer_speak_french(client, brand, chat):
    url = opt_in_link(client, brand, chat)
    page = client.get(url, headers={"Accept-Language": "fr-FR"}).get_data(as_text=True)
    assert "Activer les notifications" in page and "Recevoir la réponse sur ce navigateur" in page
    frame = client.get(f"/widget/{brand.widget_key}", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert re.search(r'data-testid="push-opt-in">([^<]*)<', frame).group(1) == (
        "Me prévenir sur ce navigateur quand l'expert répond")
