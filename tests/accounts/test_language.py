"""One language per person: what is sent to someone speaks the language they last chose, whoever sends it
and from wherever; the audit log reads in the reader's language and always names who acted."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from marketplace.accounts import language
from marketplace.accounts import services as accounts
from marketplace.accounts.models import Role, User
from marketplace.brands import members
from marketplace.brands.models import BrandRole
from marketplace.notifications.models import Notification
from marketplace.shifts import jobs
from marketplace.shifts import slots as shifts
from tests.conftest import csrf_token_from, log_in
from tests.factories import (
    PASSWORD,
    BrandFactory,
    EnrolmentFactory,
    MembershipFactory,
    ShiftBookingFactory,
    UserFactory,
)
from tests.shifts.conftest import Scene, slot_at

ENGLISH_BROWSER = {"Accept-Language": "en-GB,en;q=0.9"}
FRENCH_BROWSER = {"Accept-Language": "fr-FR,fr;q=0.9"}
CANCELLED = {"en": "Lumière cancelled a shift", "fr": "Lumière a annulé un créneau"}
REMINDED = {"en": "Your Lumière shift starts soon", "fr": "Votre créneau Lumière commence bientôt"}
RESET = {"en": "Reset your Marketplace password", "fr": "Réinitialisez votre mot de passe Marketplace"}
OTHER = {"en": FRENCH_BROWSER, "fr": ENGLISH_BROWSER}


@pytest.fixture
def scene(session) -> Scene:
    """A brand (Paris time), one of its admins and an expert it approved, none of whom chose a language."""
    brand = BrandFactory(name="Lumière", timezone="Europe/Paris", currency="EUR")
    admin = session.get(User, MembershipFactory(brand=brand, role=BrandRole.ADMIN).user_id)
    enrolment = EnrolmentFactory(brand_id=brand.id)
    session.commit()
    return Scene(brand, admin, session.get(User, enrolment.expert.user_id), enrolment.expert)


def notifications_of(session, user: User, kind: str) -> list[Notification]:
    return list(session.scalars(sa.select(Notification).where(Notification.user_id == user.id,
                                                              Notification.kind == kind)))


def cancel_a_booked_shift(app, scene, browser: dict[str, str]) -> None:
    """The brand's admin cancels a shift the expert booked, from a page in the browser's language."""
    slot = slot_at(scene.brand.id, 24)
    ShiftBookingFactory(slot_id=slot.id, expert_id=scene.expert_id)
    with app.test_request_context(headers=browser):
        shifts.cancel_slot(scene.admin, scene.brand.id, slot.id)


def ask_for_a_reset(client, email: str, browser: dict[str, str]) -> None:
    token = csrf_token_from(client.get("/password/forgot", headers=browser).get_data(as_text=True))
    response = client.post("/password/forgot", data={"email": email, "csrf_token": token}, headers=browser)
    assert response.status_code == 302


def log_in_from(client, email: str, browser: dict[str, str]) -> None:
    token = csrf_token_from(client.get("/login", headers=browser).get_data(as_text=True))
    response = client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token},
                           headers=browser)
    assert response.status_code == 302


@pytest.mark.parametrize("chosen", ["en", "fr"])
def test_notifications_and_mails_speak_the_recipients_language_not_the_senders(app, client, session, outbox,
                                                                             scene, chosen):
    scene.expert.locale = chosen
    session.commit()

    cancel_a_booked_shift(app, scene, OTHER[chosen])  # an admin whose page speaks the other language
    ask_for_a_reset(client, scene.expert.email, OTHER[chosen])  # typed in on a browser of the other language

    [cancelled] = notifications_of(session, scene.expert, "shift_cancelled")
    assert cancelled.title == CANCELLED[chosen]
    [mail] = outbox.to(scene.expert.email)
    assert mail["Subject"] == RESET[chosen]
    assert ("Hello" in mail.get_content()) == (chosen == "en")


def test_a_scheduled_job_writes_to_each_person_in_their_own_language(app, session, scene):
    scene.expert.locale = "fr"
    session.commit()
    slot = slot_at(scene.brand.id, (app.config["SHIFT_REMINDER_MINUTES"] - 10) / 60)
    ShiftBookingFactory(slot_id=slot.id, expert_id=scene.expert_id)

    assert jobs.send_reminders() == 1  # no request: nobody's browser to go by

    [reminder] = notifications_of(session, scene.expert, "shift_reminder")
    assert reminder.title == REMINDED["fr"]


def test_a_user_who_switches_to_french_gets_french_from_then_on(app, client, session, outbox, scene):
    scene.expert.locale = "en"
    session.commit()
    csrf = log_in(client, scene.expert.email)
    switched = client.post("/language", data={"locale": "fr", "csrf_token": csrf, "next": "/"})
    assert switched.status_code == 302
    assert session.get(User, scene.expert.id, populate_existing=True).locale == "fr"

    cancel_a_booked_shift(app, scene, ENGLISH_BROWSER)
    ask_for_a_reset(client, scene.expert.email, ENGLISH_BROWSER)

    [cancelled] = notifications_of(session, scene.expert, "shift_cancelled")
    assert cancelled.title == CANCELLED["fr"]
    assert outbox.to(scene.expert.email)[-1]["Subject"] == RESET["fr"]


def test_a_user_without_a_language_gets_their_browsers_at_log_in(app, client, session, outbox,
                                                                 scene):
    assert scene.expert.locale is None
    log_in_from(client, scene.expert.email, ENGLISH_BROWSER)
    assert session.get(User, scene.expert.id, populate_existing=True).locale == "en"

    cancel_a_booked_shift(app, scene, FRENCH_BROWSER)
    ask_for_a_reset(client, scene.expert.email, FRENCH_BROWSER)

    [cancelled] = notifications_of(session, scene.expert, "shift_cancelled")
    assert cancelled.title == CANCELLED["en"]
    assert outbox.to(scene.expert.email)[-1]["Subject"] == RESET["en"]


def test_a_language_chosen_before_stays_whatever_browser_logs_in(client, session):
    chose_french = UserFactory(role=Role.OPS, locale="fr")
    session.commit()
    log_in_from(client, chose_french.email, ENGLISH_BROWSER)
    assert session.get(User, chose_french.id, populate_existing=True).locale == "fr"


def test_the_language_picked_on_the_log_in_page_wins_over_the_browsers(app, client, session):
    user = UserFactory(role=Role.OPS)
    session.commit()
    client.set_cookie("lang", "fr", domain=app.config["SERVER_NAME"])
    log_in_from(client, user.email, ENGLISH_BROWSER)
    assert session.get(User, user.id, populate_existing=True).locale == "fr"


def test_a_language_picked_on_the_log_in_page_replaces_an_older_choice(app, client, session):
    chose_english = UserFactory(role=Role.OPS, locale="en")
    session.commit()
    client.set_cookie("lang", "fr", domain=app.config["SERVER_NAME"])
    log_in_from(client, chose_english.email, ENGLISH_BROWSER)
    assert session.get(User, chose_english.id, populate_existing=True).locale == "fr"


def test_a_browser_asking_for_a_language_we_do_not_speak_saves_nothing(client, session):
    user = UserFactory(role=Role.OPS)
    session.commit()
    log_in_from(client, user.email, {"Accept-Language": "de-DE,de;q=0.9"})
    assert session.get(User, user.id, populate_existing=True).locale is None


def test_accepting_an_invitation_saves_the_browsers_language(client, session, outbox):
    ops = UserFactory(role=Role.OPS)
    session.commit()
    brand, _invitation = members.create_brand_with_admin(ops, "Maison Lumière", None, "Europe/Paris", "EUR",
                                                         "claire@lumiere.example")
    [mail] = outbox.to("claire@lumiere.example")
    link = re.search(r"/invitations/\S+", mail.get_content()).group(0)

    page = client.get(link, headers=FRENCH_BROWSER).get_data(as_text=True)
    joined = client.post(link, headers=FRENCH_BROWSER, data={
        "csrf_token": csrf_token_from(page), "full_name": "Claire Dubois", "password": "a-long-enough-password",
        "confirm": "a-long-enough-password"})

    assert joined.status_code == 302
    claire = session.scalar(sa.select(User).where(User.email == "claire@lumiere.example"))
    assert claire.locale == "fr"


def test_an_invitation_to_an_existing_account_speaks_that_accounts_language(app, session, outbox):
    ops = UserFactory(role=Role.OPS)
    UserFactory(role=Role.BRAND, email="paul@lumiere.example", locale="fr")
    session.commit()
    with app.test_request_context(headers=ENGLISH_BROWSER):  # ops writes from an English page
        members.create_brand_with_admin(ops, "Maison Lumière", None, "Europe/Paris", "EUR", "paul@lumiere.example")
    [mail] = outbox.to("paul@lumiere.example")
    assert mail["Subject"] == "Rejoignez Maison Lumière sur Marketplace"


def test_language_of_falls_back_to_the_apps_default(app, session):
    assert language.language_of(None) == app.config["BABEL_DEFAULT_LOCALE"]
    assert language.language_of(UserFactory(locale=None)) == app.config["BABEL_DEFAULT_LOCALE"]
    assert language.language_of(UserFactory(locale="fr")) == "fr"
    assert language.supported("fr-CA") == "fr" and language.supported("en_GB") == "en"
    assert language.supported("de") is None and language.supported("") is None


# The audit log: readable names in the reader's language, and always who acted.

def test_the_ops_home_names_each_event_and_who_did_it(client, session):
    ops = UserFactory(role=Role.OPS, full_name="Olivia Ops")
    target = UserFactory(role=Role.EXPERT, email="camille@example.com")
    session.commit()
    accounts.change_role(ops, target.id, Role.BRAND)
    accounts.authenticate(target.email, "not the password", ip="192.0.2.9")
    log_in(client, ops.email)

    english = client.get("/", headers=ENGLISH_BROWSER, follow_redirects=True).get_data(as_text=True)
    french = client.get("/", headers=FRENCH_BROWSER, follow_redirects=True).get_data(as_text=True)

    assert "Role changed" in english and "Olivia Ops" in english and "camille@example.com" in english
    assert "Failed log-in" in english and "someone not logged in" in english
    assert "role_changed" not in english and "login_failed" not in english
    assert "Rôle modifié" in french and "Échec de connexion" in french and "une personne non connectée" in french


def test_the_audit_api_gives_each_event_a_name_and_an_actor_in_the_requests_language(client, session):
    ops = UserFactory(role=Role.OPS, full_name="Olivia Ops")
    target = UserFactory(role=Role.EXPERT)
    session.commit()
    accounts.change_role(ops, target.id, Role.BRAND)
    accounts.record_audit("brand_created", brand_id=1, slug="velo")  # the command line: nobody logged in
    accounts.record_audit("some_future_kind")
    session.commit()
    log_in(client, ops.email)

    english = {e["kind"]: e for e in client.get("/api/v1/audit-events", headers=ENGLISH_BROWSER).json}
    french = {e["kind"]: e for e in client.get("/api/v1/audit-events", headers=FRENCH_BROWSER).json}

    assert (english["role_changed"]["kind_name"], english["role_changed"]["actor_label"]) == ("Role changed",
                                                                                               "Olivia Ops")
    assert (english["brand_created"]["kind_name"], english["brand_created"]["actor_label"]) == ("Brand opened",
                                                                                                 "the system")
    assert english["some_future_kind"]["kind_name"] == "Some future kind"  # a kind without a name yet
    assert (french["brand_created"]["kind_name"], french["brand_created"]["actor_label"]) == ("Marque ouverte",
                                                                                               "le système")


def test_the_money_audit_page_reads_in_french_with_who_acted(client, session):
    finance = UserFactory(role=Role.FINANCE, full_name="Fanny Finance")
    session.commit()
    accounts.record_audit("payout_batch_created", actor_id=finance.id, batch_id=41, currency="EUR", items=2,
                          total_cents=4_250)
    accounts.record_audit("payout_item_reversed", batch_id=41, item_id=7, transfer="tr_1", amount_cents=100)
    session.commit()
    log_in(client, finance.email)

    page = client.get("/finance/audit", headers=FRENCH_BROWSER).get_data(as_text=True)

    assert "Lot préparé" in page and "Virement annulé chez le prestataire" in page
    assert "Fanny Finance" in page and "le prestataire de paiement" in page
    assert "<dt>Total (centimes)</dt><dd>4250</dd>" in page and "<dt>Lot</dt><dd>41</dd>" in page
