"""The e-mailed resume link binds any browser to the conversation; the visitor may ask for the transcript."""

from __future__ import annotations

import datetime as dt

from marketplace.database import db, utcnow
from marketplace.mail import text_of
from marketplace.routing.continuation import tokens
from marketplace.routing.models import Conversation
from tests.routing.conftest import visitor_token
from tests.routing.continuation.conftest import VISITOR_EMAIL


def resume_path(brand, away, now=None) -> str:
    token = tokens.resume_token(away.id, VISITOR_EMAIL, now or utcnow())
    return f"/widget/{brand.widget_key}/resume/{token}"


def widget_call(client, method: str, path: str, token: str, **kwargs):
    return client.open(path, method=method, headers={"X-Visitor-Token": token}, **kwargs)


def test_the_link_opens_the_widget_full_page_without_leaking_its_token(client, brand, away):
    page = client.get(resume_path(brand, away))
    assert page.status_code == 200
    assert 'data-resume-token="' in page.get_data(as_text=True)
    assert page.headers["Referrer-Policy"] == "no-referrer" and page.headers["Cache-Control"] == "no-store"


def test_a_forged_or_expired_link_gets_a_friendly_404_saying_no_more(client, brand, away):
    path = resume_path(brand, away)
    expired = resume_path(brand, away, utcnow() - dt.timedelta(hours=200))
    for bad in (path[:-2] + ("aa" if not path.endswith("aa") else "bb"), expired,
                f"/widget/{brand.widget_key}/resume/1-abc-xyz"):
        page = client.get(bad)
        assert page.status_code == 404
        assert "This link no longer works" in page.get_data(as_text=True)
        assert "data-resume-token" not in page.get_data(as_text=True)


def test_a_new_browser_bound_by_the_link_reads_and_writes_while_the_first_keeps_its_own(client, brand, away):
    new_browser = visitor_token()
    token = tokens.resume_token(away.id, VISITOR_EMAIL, utcnow())
    api = f"/api/widget/{brand.widget_key}"
    bound = widget_call(client, "POST", f"{api}/resume", new_browser, json={"token": token})
    assert bound.status_code == 200 and bound.get_json()["id"] == away.id
    history = widget_call(client, "GET", f"{api}/conversations/{away.id}/messages?after=0", new_browser).get_json()
    assert [m["body"] for m in history["messages"]] == ["Bonjour !"]
    sent = widget_call(client, "POST", f"{api}/conversations/{away.id}/messages", new_browser,
                       json={"client_id": "resumed-1", "body": "Me revoilà"})
    assert sent.status_code == 201
    first = widget_call(client, "GET", f"{api}/conversations/{away.id}/messages?after=0", away.visitor_token)
    assert [m["body"] for m in first.get_json()["messages"]] == ["Bonjour !", "Me revoilà"]
    stranger = widget_call(client, "GET", f"{api}/conversations/{away.id}", visitor_token())
    assert stranger.status_code == 404


def test_a_link_does_not_bind_a_browser_to_another_brands_widget(client, brand, away):
    from tests.factories import BrandFactory

    other = BrandFactory()
    db.session.commit()
    token = tokens.resume_token(away.id, VISITOR_EMAIL, utcnow())
    response = widget_call(client, "POST", f"/api/widget/{other.widget_key}/resume", visitor_token(),
                           json={"token": token})
    assert response.status_code == 404
    assert client.get(f"/widget/{other.widget_key}/resume/{token}").status_code == 404


def test_a_link_for_an_address_the_visitor_since_changed_no_longer_works(client, brand, away):
    token = tokens.resume_token(away.id, VISITOR_EMAIL, utcnow())
    db.session.get(Conversation, away.id).visitor_email = "other@example.com"
    db.session.commit()
    assert client.get(f"/widget/{brand.widget_key}/resume/{token}").status_code == 404


def test_the_transcript_goes_to_the_consented_address_once_in_a_while(client, brand, away, outbox):
    path = f"/api/widget/{brand.widget_key}/conversations/{away.id}/transcript"
    assert widget_call(client, "POST", path, away.visitor_token).status_code == 200
    [mail] = outbox.to(VISITOR_EMAIL)
    assert "Bonjour !" in text_of(mail) and "Lumière" in str(mail["Subject"])
    again = widget_call(client, "POST", path, away.visitor_token)
    assert again.status_code == 409 and again.get_json()["errors"] == {"email": [again.get_json()["detail"]]}
    assert len(outbox.to(VISITOR_EMAIL)) == 1
    assert widget_call(client, "POST", path, visitor_token()).status_code == 404  # not this browser's


def test_no_transcript_without_an_address_given(client, brand, session, outbox):
    from tests.routing.conftest import arrive

    token = visitor_token()
    conversation = arrive(brand, token)
    response = widget_call(client, "POST", f"/api/widget/{brand.widget_key}/conversations/{conversation.id}/transcript",
                           token)
    assert response.status_code == 409
    assert outbox.messages == []
