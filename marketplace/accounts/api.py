"""JSON API for accounts: who am I and where I am logged in, users and roles (ops), the audit log (ops)."""

from __future__ import annotations

from typing import Any

from flask import request

from marketplace.accounts import services
from marketplace.accounts.auth import current_session_id
from marketplace.accounts.models import Role
from marketplace.accounts.schemas import (
    AuditEventSchema,
    AuditQuerySchema,
    MeSchema,
    RoleChangeSchema,
    SessionSchema,
    UserQuerySchema,
    UserSchema,
)
from marketplace.web.api import api_blueprint, endpoint

blueprint = api_blueprint("accounts_api", __name__)


@blueprint.get("/me")
@endpoint("The caller: a logged-in user or a brand API token", roles=Role, response=MeSchema(), tags=["accounts"])
def me(actor) -> dict[str, Any]:
    if actor.is_token:
        return {"kind": "token", "id": actor.token_id, "full_name": actor.full_name, "role": actor.role,
                "brand_id": actor.brand_id, "brand_role": actor.brand_role}
    return {"kind": "user", "id": actor.id, "email": actor.email, "full_name": actor.full_name,
            "role": actor.role}


@blueprint.get("/me/sessions")
@endpoint("Where the caller is logged in: each live session, the one in use first", roles=Role,
          response=SessionSchema(many=True), tags=["accounts"])
def my_sessions(actor):
    return services.list_sessions(actor, current_session_id=current_session_id())


@blueprint.delete("/me/sessions/<int:session_id>")
@endpoint("Log one of the caller's devices out (audited)", roles=Role, status=204, tags=["accounts"])
def end_my_session(actor, session_id: int) -> None:
    services.end_session(actor, session_id, ip=request.remote_addr)


@blueprint.get("/users")
@endpoint("List users, optionally of one role", roles=[Role.OPS], query=UserQuerySchema(),
          response=UserSchema(many=True), tags=["accounts"])
def list_users(actor, query):
    return services.list_users(actor, role=Role(query["role"]) if "role" in query else None)


@blueprint.put("/users/<int:user_id>/role")
@endpoint("Change a user's role (audited)", roles=[Role.OPS], body=RoleChangeSchema(),
          response=UserSchema(), tags=["accounts"])
def change_role(actor, user_id: int, body):
    return services.change_role(actor, user_id, Role(body["role"]), ip=request.remote_addr)


@blueprint.get("/audit-events")
@endpoint("The newest security events", roles=[Role.OPS], query=AuditQuerySchema(),
          response=AuditEventSchema(many=True), tags=["accounts"])
def audit_events(actor, query):
    return services.recent_audit_events(actor, limit=query["limit"], kind=query.get("kind"))
