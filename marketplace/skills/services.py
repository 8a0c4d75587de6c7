"""The skill taxonomy: everyone reads it, ops extend it."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from marketplace.accounts import services as accounts
from marketplace.accounts.models import Role, User
from marketplace.core.text import slugify
from marketplace.database import db, use_case
from marketplace.errors import Conflict, Forbidden, InvalidInput, clean_text
from marketplace.skills.models import Skill


def list_skills() -> list[Skill]:
    return list(db.session.scalars(sa.select(Skill).order_by(Skill.category, Skill.slug)))


def skills_from_slugs(slugs: Iterable[str], field: str = "skills") -> list[Skill]:
    """The skills named by `slugs`, refusing any the taxonomy does not have."""
    wanted = {slug.strip() for slug in slugs if slug and slug.strip()}
    if not wanted:
        return []
    found = list(db.session.scalars(sa.select(Skill).where(Skill.slug.in_(wanted)).order_by(Skill.slug)))
    unknown = wanted - {skill.slug for skill in found}
    if unknown:
        raise InvalidInput(_l("Unknown skill: %(names)s.", names=", ".join(sorted(unknown))), field)
    return found


@use_case
def create_skill(actor: User, name_en: str, name_fr: str, category: str, *, slug: str | None = None) -> Skill:
    """Add a skill to the shared taxonomy (ops)."""
    if actor.is_token or actor.role != Role.OPS:
        raise Forbidden(_l("Only ops staff extend the skill taxonomy."))
    name_en = clean_text(name_en, "name_en", max_length=60, required=_l("Name the skill in English."))
    name_fr = clean_text(name_fr, "name_fr", max_length=60, required=_l("Name the skill in French."))
    category = slugify(clean_text(category, "category", max_length=60, required=_l("Choose a category.")))
    slug = slugify(slug or name_en)
    if not slug or not category:
        raise InvalidInput(_l("Use letters or digits."), "slug" if not slug else "category")
    if db.session.scalar(sa.select(Skill.id).where(Skill.slug == slug)) is not None:
        raise Conflict(_l("The taxonomy already has this skill."), "slug")
    skill = Skill(slug=slug, category=category, names={"en": name_en, "fr": name_fr})
    db.session.add(skill)
    db.session.flush()
    accounts.record_audit("skill_created", actor_id=actor.id, skill=slug)
    return skill
