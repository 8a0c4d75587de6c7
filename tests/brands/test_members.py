"""Brand accounts through the pages: ops opens a brand and invites its first admin, who builds the team."""

from __future__ import annotations

import re

import pytest

from marketplace.accounts.models import AuditEvent, Role, User
from marketplace.brands.models import Brand, BrandInvitation, BrandMembership, BrandRole
from tests.conftest import Outbox, csrf_token_from, log_in
from tests.factories import BrandFactory, MembershipFactory, UserFactory

NEW_PASSWORD = "a-long-enough-password"


def link_to(outbox: Outbox, address: str) -> str:
    """The invitation link in the last message to `address` (its path)."""
    *_, message = outbox.to(address)
    return re.search(r"http://marketplace\.localhost(/invitations/\S+)", message.get_content()).group(1)


def page_csrf(client, path: str) -> str:
    return csrf_token_from(client.get(path).get_data(as_text=True))


def log_out(client) -> None:
    home = client.get("/", follow_redirects=True).get_data(as_text=True)
    client.post("/logout", data={"csrf_token": csrf_token_from(home)})


def sign_up(client, link: str, name: str, password: str = NEW_PASSWORD, confirm: str | None = None):
    return client.post(link, data={"csrf_token": page_csrf(client, link), "full_name": name, "password": password,
                                   "confirm": password if confirm is None else confirm})


def test_ops_opens_a_brand_whose_invited_admin_builds_and_trims_the_team(client, session, outbox):
    ops = UserFactory(role=Role.OPS)
    log_in(client, ops.email)
    opened = client.post("/ops/brands", data={
        "csrf_token": page_csrf(client, "/ops/brands"), "name": "Maison Lumière", "slug": "",
        "timezone": "Europe/Paris",
        "currency": "eur", "admin_email": "Claire@Lumiere.example"})
    assert opened.status_code == 302
    brand = session.query(Brand).filter_by(slug="maison-lumiere").one()
    assert brand.currency == "EUR"
    assert [m["To"] for m in outbox.messages] == ["claire@lumiere.example"]
    assert "Maison Lumière" in outbox.messages[0]["Subject"]
    listing = client.get("/ops/brands").get_data(as_text=True)
    assert 'href="/brands/maison-lumiere"' in listing
    log_out(client)

    # The first admin opens the mailed link, sees what they join, and chooses a name and password.
    link = link_to(outbox, "claire@lumiere.example")
    page = client.get(link).get_data(as_text=True)
    assert "Maison Lumière" in page and "Admin" in page
    joined = sign_up(client, link, "Claire Dubois")
    assert joined.status_code == 302 and joined.headers["Location"].endswith("/brands/maison-lumiere")
    claire = session.query(User).filter_by(email="claire@lumiere.example").one()
    assert claire.role == Role.BRAND and claire.full_name == "Claire Dubois"
    assert client.get("/brands/maison-lumiere").status_code == 200  # logged in as Claire
    members_page = client.get("/brands/maison-lumiere/members").get_data(as_text=True)
    assert "claire@lumiere.example" in members_page and "Invite someone" in members_page

    # She invites a viewer, who joins through their own link.
    invited = client.post("/brands/maison-lumiere/members", data={
        "csrf_token": page_csrf(client, "/brands/maison-lumiere/members"), "email": "paul@lumiere.example",
        "role": "viewer"})
    assert invited.status_code == 302
    assert "paul@lumiere.example" in client.get("/brands/maison-lumiere/members").get_data(as_text=True)
    log_out(client)
    viewer_link = link_to(outbox, "paul@lumiere.example")
    assert "Viewer" in client.get(viewer_link).get_data(as_text=True)
    assert sign_up(client, viewer_link, "Paul Martin").status_code == 302
    paul = session.query(User).filter_by(email="paul@lumiere.example").one()
    roles = dict(session.query(BrandMembership.user_id, BrandMembership.role).filter_by(brand_id=brand.id).all())
    assert roles == {claire.id: BrandRole.ADMIN, paul.id: BrandRole.VIEWER}

    # The viewer sees the team but changes nothing.
    viewer_page = client.get("/brands/maison-lumiere/members")
    assert viewer_page.status_code == 200
    assert "Invite someone" not in viewer_page.get_data(as_text=True)
    csrf = page_csrf(client, "/brands/maison-lumiere/members")
    refused = client.post("/brands/maison-lumiere/members",
                          data={"csrf_token": csrf, "email": "eve@example.com", "role": "admin"})
    assert refused.status_code == 403
    assert client.post("/brands/maison-lumiere/members/remove",
                       data={"csrf_token": csrf, "user_id": str(claire.id)}).status_code == 403
    assert session.query(BrandInvitation).filter_by(email="eve@example.com").count() == 0
    log_out(client)

    # The admin removes the viewer, who loses the brand at once.
    log_in(client, "claire@lumiere.example", NEW_PASSWORD)
    removed = client.post("/brands/maison-lumiere/members/remove", data={
        "csrf_token": page_csrf(client, "/brands/maison-lumiere/members"), "user_id": str(paul.id)})
    assert removed.status_code == 302
    log_out(client)
    log_in(client, "paul@lumiere.example", NEW_PASSWORD)
    assert client.get("/brands/maison-lumiere").status_code == 404
    assert client.get("/brands/maison-lumiere/members").status_code == 404
    kinds = {event.kind for event in session.query(AuditEvent).filter(AuditEvent.kind.like("brand_%"))}
    assert {"brand_created", "brand_member_invited", "brand_invitation_accepted", "brand_member_removed"} <= kinds


def test_a_bad_first_admin_address_opens_no_brand(client, session, outbox):
    log_in(client, UserFactory(role=Role.OPS).email)
    response = client.post("/ops/brands", data={
        "csrf_token": page_csrf(client, "/ops/brands"), "name": "Half Written", "timezone": "Europe/Paris",
        "currency": "EUR", "admin_email": "not-an-address@"})
    assert response.status_code == 422
    assert 'id="admin_email-error"' in response.get_data(as_text=True)
    assert session.query(Brand).filter_by(name="Half Written").count() == 0
    assert session.query(BrandInvitation).count() == 0
    assert outbox.messages == []


def test_a_taken_short_name_opens_no_brand_and_sends_nothing(client, session, outbox):
    BrandFactory(slug="taken")
    log_in(client, UserFactory(role=Role.OPS).email)
    response = client.post("/ops/brands", data={
        "csrf_token": page_csrf(client, "/ops/brands"), "name": "Another", "slug": "taken",
        "timezone": "Europe/Paris", "currency": "EUR", "admin_email": "boss@another.example"})
    assert response.status_code == 422
    assert 'id="slug-error"' in response.get_data(as_text=True)
    assert session.query(BrandInvitation).filter_by(email="boss@another.example").count() == 0
    assert outbox.messages == []


@pytest.mark.parametrize("role", [Role.BRAND, Role.FINANCE, Role.EXPERT])
def test_only_ops_open_the_brands_page(client, session, role):
    log_in(client, UserFactory(role=role).email)
    assert client.get("/ops/brands").status_code == 403


def test_the_ops_home_links_to_the_brands_page(client, session):
    log_in(client, UserFactory(role=Role.OPS).email)
    assert 'href="/ops/brands"' in client.get("/ops/").get_data(as_text=True)


def test_the_overview_links_to_the_members_page(client, session):
    membership = MembershipFactory(role=BrandRole.VIEWER)
    log_in(client, session.get(User, membership.user_id).email)
    page = client.get(f"/brands/{membership.brand.slug}").get_data(as_text=True)
    assert f'href="/brands/{membership.brand.slug}/members"' in page


def test_the_last_admin_cannot_remove_themselves_on_the_page(client, session):
    membership = MembershipFactory(role=BrandRole.ADMIN)
    admin = session.get(User, membership.user_id)
    log_in(client, admin.email)
    page = f"/brands/{membership.brand.slug}/members"
    response = client.post(f"{page}/remove", data={"csrf_token": page_csrf(client, page), "user_id": str(admin.id)})
    assert response.status_code == 302
    assert "at least one admin" in client.get(page).get_data(as_text=True)
    assert session.query(BrandMembership).filter_by(user_id=admin.id).count() == 1


def test_an_admin_leaves_when_another_admin_remains(client, session):
    first = MembershipFactory(role=BrandRole.ADMIN)
    second = MembershipFactory(role=BrandRole.ADMIN, brand=first.brand)
    admin = session.get(User, first.user_id)
    log_in(client, admin.email)
    page = f"/brands/{first.brand.slug}/members"
    response = client.post(f"{page}/remove", data={"csrf_token": page_csrf(client, page), "user_id": str(admin.id)})
    assert response.status_code == 302
    assert client.get(page).status_code == 404
    remaining = session.query(BrandMembership.user_id).filter_by(brand_id=first.brand.id).all()
    assert remaining == [(second.user_id,)]


def test_an_admin_changes_a_members_role_but_not_the_last_admins(client, session):
    membership = MembershipFactory(role=BrandRole.ADMIN)
    viewer = MembershipFactory(role=BrandRole.VIEWER, brand=membership.brand)
    log_in(client, session.get(User, membership.user_id).email)
    page = f"/brands/{membership.brand.slug}/members"
    csrf = page_csrf(client, page)
    client.post(f"{page}/role", data={"csrf_token": csrf, "user_id": str(viewer.user_id), "role": "admin"})
    assert session.get(BrandMembership, viewer.id).role == BrandRole.ADMIN
    client.post(f"{page}/role", data={"csrf_token": csrf, "user_id": str(viewer.user_id), "role": "viewer"})
    client.post(f"{page}/role", data={"csrf_token": csrf, "user_id": str(membership.user_id), "role": "viewer"})
    session.expire_all()
    assert session.get(BrandMembership, viewer.id).role == BrandRole.VIEWER
    assert session.get(BrandMembership, membership.id).role == BrandRole.ADMIN


def test_an_admin_resends_and_withdraws_invitations_from_the_page(client, session, outbox):
    membership = MembershipFactory(role=BrandRole.ADMIN)
    log_in(client, session.get(User, membership.user_id).email)
    page = f"/brands/{membership.brand.slug}/members"
    client.post(page, data={"csrf_token": page_csrf(client, page), "email": "ana@example.com", "role": "viewer"})
    first_link = link_to(outbox, "ana@example.com")
    invitation = session.query(BrandInvitation).filter_by(email="ana@example.com").one()
    csrf = page_csrf(client, page)
    client.post(f"/brands/{membership.brand.slug}/invitations/resend",
                data={"csrf_token": csrf, "invitation_id": str(invitation.id)})
    second_link = link_to(outbox, "ana@example.com")
    assert second_link != first_link
    assert client.get(first_link).status_code == 404
    assert client.get(second_link).status_code == 200
    client.post(f"/brands/{membership.brand.slug}/invitations/revoke",
                data={"csrf_token": csrf, "invitation_id": str(invitation.id)})
    assert client.get(second_link).status_code == 404
    assert "ana@example.com" not in client.get(page).get_data(as_text=True)


def test_inviting_twice_names_the_email_field(client, session, outbox):
    membership = MembershipFactory(role=BrandRole.ADMIN)
    log_in(client, session.get(User, membership.user_id).email)
    page = f"/brands/{membership.brand.slug}/members"
    data = {"email": "ana@example.com", "role": "viewer"}
    client.post(page, data={"csrf_token": page_csrf(client, page), **data})
    again = client.post(page, data={"csrf_token": page_csrf(client, page), **data})
    assert again.status_code == 422
    assert 'id="email-error"' in again.get_data(as_text=True)
    assert len(outbox.messages) == 1


def test_the_api_invites_resends_withdraws_promotes_and_removes(client, session, outbox):
    membership = MembershipFactory(role=BrandRole.ADMIN)
    viewer = MembershipFactory(brand=membership.brand, role=BrandRole.VIEWER)
    session.commit()
    brand_id, base = membership.brand.id, f"/api/v1/brands/{membership.brand.id}"
    csrf = log_in(client, session.get(User, membership.user_id).email)
    headers = {"X-CSRFToken": csrf}

    by_members = client.post(f"{base}/members", json={"email": "Ana@Example.com", "role": "admin"}, headers=headers)
    by_invitations = client.post(f"{base}/invitations", json={"email": "bob@example.com"}, headers=headers)
    assert (by_members.status_code, by_members.json["email"], by_members.json["role"]) == (201, "ana@example.com",
                                                                                            "admin")
    assert (by_invitations.status_code, by_invitations.json["role"]) == (201, "viewer")  # viewer by default
    assert sorted(i["email"] for i in client.get(f"{base}/invitations").json) == ["ana@example.com",
                                                                                 "bob@example.com"]
    bad = client.post(f"{base}/invitations", json={"email": "not an address"}, headers=headers)
    assert bad.status_code == 422 and "email" in bad.json["errors"]

    resent = client.post(f"{base}/invitations/{by_invitations.json['id']}/resend", headers=headers)
    assert resent.status_code == 200 and len(outbox.to("bob@example.com")) == 2
    withdrawn = client.delete(f"{base}/invitations/{by_members.json['id']}", headers=headers)
    assert withdrawn.json["revoked_at"] is not None
    assert [i["email"] for i in client.get(f"{base}/invitations").json] == ["bob@example.com"]

    promoted = client.patch(f"{base}/members/{viewer.user_id}", json={"role": "admin"}, headers=headers)
    assert promoted.json["role"] == "admin"
    assert client.delete(f"{base}/members/{viewer.user_id}", headers=headers).status_code == 204
    assert session.query(BrandMembership).filter_by(brand_id=brand_id).count() == 1
