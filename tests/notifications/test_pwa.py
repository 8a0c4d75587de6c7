"""The installable app's files: the manifest, the service worker at the root, the icons, the offline page."""

from __future__ import annotations

import re
import struct
from pathlib import Path

import pytest
from flask import render_template

from marketplace.accounts.models import Role
from marketplace.notifications import services
from tests.conftest import csrf_token_from, log_in
from tests.factories import UserFactory

STATIC = Path(__file__).resolve().parents[2] / "marketplace" / "static"


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk, after checking the signature."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_the_manifest_describes_the_expert_app(client):
    response = client.get("/manifest.webmanifest")
    assert response.status_code == 200
    assert response.mimetype == "application/manifest+json"
    manifest = response.get_json(force=True)
    assert (manifest["start_url"], manifest["scope"], manifest["display"]) == ("/expert", "/", "standalone")
    assert manifest["name"] == "Marketplace for experts" and manifest["short_name"] == "Marketplace"
    assert re.fullmatch(r"#[0-9a-f]{6}", manifest["theme_color"])
    assert re.fullmatch(r"#[0-9a-f]{6}", manifest["background_color"])
    sizes = {(icon["sizes"], icon["type"], icon["purpose"]) for icon in manifest["icons"]}
    assert {("192x192", "image/png", "any"), ("512x512", "image/png", "any"),
            ("512x512", "image/png", "maskable"), ("any", "image/svg+xml", "any")} <= sizes


def test_every_manifest_icon_is_served_and_has_its_stated_size(client):
    manifest = client.get("/manifest.webmanifest").get_json(force=True)
    for icon in manifest["icons"]:
        with client.get(icon["src"]) as response:
            assert response.status_code == 200, icon["src"]
            data = response.data
        if icon["type"] == "image/png":
            width, height = icon["sizes"].split("x")
            assert png_size(data) == (int(width), int(height)), icon["src"]
        else:
            assert data.lstrip().startswith(b"<svg"), icon["src"]


@pytest.mark.parametrize(("name", "size"), [("apple-touch-icon.png", 180), ("badge-96.png", 96)])
def test_the_other_icons_are_real_pngs(name, size):
    assert png_size((STATIC / "icons" / name).read_bytes()) == (size, size)


def test_the_service_worker_is_served_from_the_root_for_the_whole_site(client):
    with client.get("/service-worker.js") as response:
        assert response.status_code == 200
        assert response.mimetype == "text/javascript"
        assert response.headers["Service-Worker-Allowed"] == "/"
        assert response.headers["Cache-Control"] == "no-cache"
        source = response.get_data(as_text=True)
    for event in ("install", "activate", "fetch", "push", "notificationclick"):
        assert f'addEventListener("{event}"' in source
    # Everything it precaches exists, or the offline page would be missing its styles.
    for path in re.findall(r'"(/static/[^"]+)"', source):
        with client.get(path) as asset:
            assert asset.status_code == 200, path


def test_the_offline_page_is_a_normal_page(client):
    response = client.get("/offline")
    assert response.status_code == 200
    assert "You are offline" in response.get_data(as_text=True)


def test_every_page_links_the_manifest_and_loads_the_app_script(client):
    page = client.get("/login").get_data(as_text=True)
    assert '<link rel="manifest" href="/manifest.webmanifest"' in page
    assert '<meta name="theme-color"' in page and 'rel="apple-touch-icon"' in page
    assert re.search(r'<script src="/static/js/pwa\.js" data-service-worker="/service-worker\.js"', page)
    assert "<script>" not in page  # no inline script: the CSP forbids them


def test_the_csp_lets_the_service_worker_and_manifest_load_from_this_site(client):
    with client.get("/service-worker.js") as response:
        policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "default-src 'self'" in policy


def test_mark_all_read_goes_back_to_the_page_it_came_from(client, session):
    user = UserFactory(role=Role.EXPERT)
    services.notify(user.id, "news", "One")
    services.notify(user.id, "news", "Two")
    session.commit()
    csrf = log_in(client, user.email)

    response = client.post("/notifications/read-all", data={"csrf_token": csrf},
                           headers={"Referer": "http://marketplace.localhost/expert?tab=1"})

    assert response.status_code == 302 and response.headers["Location"] == "/expert?tab=1"
    assert services.unread_count(user) == 0


@pytest.mark.parametrize("referrer", [None, "https://evil.example.com/expert", "http://marketplace.localhost//x"])
def test_mark_all_read_goes_home_when_the_referrer_is_elsewhere(client, session, referrer):
    csrf = log_in(client, UserFactory(role=Role.OPS).email)
    headers = {"Referer": referrer} if referrer else {}
    response = client.post("/notifications/read-all", data={"csrf_token": csrf}, headers=headers)
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_mark_all_read_needs_a_login_and_the_form_token(client, session):
    anonymous_token = csrf_token_from(client.get("/login").get_data(as_text=True))
    anonymous = client.post("/notifications/read-all", data={"csrf_token": anonymous_token})
    assert anonymous.status_code == 302 and anonymous.headers["Location"].startswith("/login")
    log_in(client, UserFactory().email)
    assert client.post("/notifications/read-all").status_code == 400


def test_the_panel_lists_notifications_with_the_hooks_pwa_js_uses(app, session):
    user = UserFactory()
    services.notify(user.id, "news", "Seen", url="/expert")
    unread = services.notify(user.id, "offer", "<b>A chat</b> is waiting", "Maison Lumière")
    session.commit()
    services.mark_read(user, services.list_notifications(user)[-1].id)

    with app.test_request_context("/expert"):
        html = render_template("notifications/_panel.html", notifications=services.list_notifications(user),
                               unread=services.unread_count(user))

    assert 'data-notification-count="1"' in html and "data-notification-list" in html
    assert "&lt;b&gt;A chat&lt;/b&gt; is waiting" in html  # titles are escaped
    assert f'data-notification-id="{unread.id}"' in html and html.count("notification--unread") == 1
    assert 'href="/expert"' in html
    assert 'action="/notifications/read-all"' in html and 'name="csrf_token"' in html
    assert "data-push-opt-in" in html and "data-push-status" in html
    assert re.search(r"data-notification-empty\s+hidden", html)


def test_the_empty_panel_says_so_and_hides_the_count(app, session):
    with app.test_request_context("/expert"):
        html = render_template("notifications/_panel.html", notifications=[], unread=0)
    assert "Nothing new for now." in html
    assert re.search(r"data-notification-badge\s+hidden", html)
    assert re.search(r"data-notification-read-all\s+hidden", html)
