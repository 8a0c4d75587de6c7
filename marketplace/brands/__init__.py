"""Brands, their members and their API tokens."""

from flask import Flask


def init_app(app: Flask) -> None:
    from marketplace.accounts.models import Role
    from marketplace.brands import api, console, member_views, services, views
    from marketplace.extensions import login_manager
    from marketplace.shared.rooms import brand_room
    from marketplace.web import register_home
    from marketplace.web.api import register_path_guard
    from marketplace.web.sockets import register_rooms

    @login_manager.request_loader
    def load_token(req):
        """Brand API tokens authenticate API calls only, as `Authorization: Bearer mkt_...`."""
        if not req.path.startswith("/api/"):
            return None
        scheme, _, secret = req.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not secret:
            return None
        return services.authenticate_api_token(secret.strip())

    def brand_rooms(user):
        return [brand_room(brand.id) for brand in services.visible_brands(user)] if user.role == Role.BRAND else []

    console.init_app(app)
    app.register_blueprint(views.blueprint)
    app.register_blueprint(api.blueprint)
    app.register_blueprint(member_views.blueprint)
    app.register_blueprint(member_views.api)
    register_home(app, Role.BRAND, "brands.home")
    register_rooms(app, brand_rooms)
    register_path_guard(app, "brand_id", lambda actor, brand_id: services.get_brand(actor, brand_id))
