"""Each role's home page shows what that role needs; the shared layout carries the live indicator."""

from __future__ import annotations

from marketplace.accounts.models import Role, User
from marketplace.brands.models import ApiToken, BrandRole
from tests.conftest import log_in
from tests.factories import BrandFactory, ExpertFactory, MembershipFactory, UserFactory


def test_the_landing_page_invites_to_sign_up_or_log_in(client):
    page = client.get("/").get_data(as_text=True)
    assert 'href="/signup"' in page and 'href="/login"' in page
    assert "live-indicator" not in page


def test_ops_home_counts_experts_and_brands(client):
    ExpertFactory()
    BrandFactory()
    log_in(client, UserFactory(role=Role.OPS).email)
    page = client.get("/ops/").get_data(as_text=True)
    assert "Application under review" in page and "Security events" in page
    assert 'id="live-indicator"' in page


def test_finance_home_lists_brands(client):
    brand = BrandFactory(name="Maison Test")
    log_in(client, UserFactory(role=Role.FINANCE).email)
    assert "Maison Test" in client.get("/finance/").get_data(as_text=True)
    assert client.get(f"/brands/{brand.slug}").status_code == 200


def test_a_brand_member_sees_their_brand_and_not_others(client, session):
    membership = MembershipFactory(role=BrandRole.VIEWER)
    other = BrandFactory()
    log_in(client, session.get(User, membership.user_id).email)
    assert client.get("/brands").headers["Location"].endswith(f"/brands/{membership.brand.slug}")
    assert client.get(f"/brands/{other.slug}").status_code == 404
    assert client.get(f"/brands/{membership.brand.slug}/tokens").status_code == 403


def test_a_brand_admin_creates_and_revokes_a_token_on_the_page(client, session):
    membership = MembershipFactory(role=BrandRole.ADMIN)
    slug = membership.brand.slug
    csrf = log_in(client, session.get(User, membership.user_id).email)
    created = client.post(f"/brands/{slug}/tokens", data={"name": "Export", "role": "viewer", "csrf_token": csrf})
    page = created.get_data(as_text=True)
    assert created.status_code == 200 and 'data-testid="new-token"' in page
    token = session.query(ApiToken).filter_by(brand_id=membership.brand.id).one()
    revoked = client.post(f"/brands/{slug}/tokens/revoke", data={"token_id": token.id, "csrf_token": csrf})
    assert revoked.status_code == 302
    session.refresh(token)
    assert token.revoked_at is not None


def test_the_token_form_names_an_empty_name(client, session):
    membership = MembershipFactory(role=BrandRole.ADMIN)
    csrf = log_in(client, session.get(User, membership.user_id).email)
    response = client.post(f"/brands/{membership.brand.slug}/tokens",
                           data={"name": "", "role": "viewer", "csrf_token": csrf})
    assert response.status_code == 422 and 'id="name-error"' in response.get_data(as_text=True)


def test_pages_send_security_headers(client):
    headers = client.get("/login").headers
    assert headers["X-Frame-Options"] == "DENY"
    assert "script-src 'self'" in headers["Content-Security-Policy"]


def test_unknown_pages_get_a_friendly_404(client):
    response = client.get("/no-such-page", headers={"Accept": "text/html"})
    assert response.status_code == 404 and "Page not found" in response.get_data(as_text=True)


def test_error_pages_speak_french_to_french_browsers(client):
    response = client.get("/no-such-page", headers={"Accept": "text/html", "Accept-Language": "fr-FR,fr"})
    page = response.get_data(as_text=True)
    assert response.status_code == 404 and "Page introuvable" in page and "Not Found" not in page


def test_healthz_checks_the_database(client):
    assert client.get("/healthz").json["checks"]["database"] == "ok"


def test_the_socket_client_library_is_served_from_the_lock_file_install(client):
    with client.get("/static/vendor/socket.io.min.js") as response:
        assert response.status_code == 200 and b"io" in response.data[:2000]
    assert client.get("/static/vendor/../package.json").status_code == 404
