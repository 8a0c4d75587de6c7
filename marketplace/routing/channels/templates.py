"""A WhatsApp number's message templates: recorded by the brand, sent by the expert once the window has closed.

Meta approves templates in WhatsApp Manager; the brand records here the ones it has (name, language, category, the
body with its {{1}}, {{2}}... placeholders) and where Meta's review stands, and its admins keep them up to date
(any of its people may list them). Only an approved template is offered to the expert and sent.

An expert holding a WhatsApp conversation sends one with its parameters, inside the customer's 24-hour window or
outside it (the only way to write then): the message is stored once, its body the template's text with the
parameters filled in (the transcript reads as the customer reads it), and its outbound record asks Graph for the
template (`outbound.as_template`), never for free text, so the window's refusal does not apply to it.
"""

from __future__ import annotations

import re
import uuid

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext

from marketplace.accounts import services as accounts
from marketplace.brands import services as brands
from marketplace.brands.models import Actor, BrandRole
from marketplace.database import db, end_read, use_case, utcnow
from marketplace.errors import Conflict, InvalidInput, NotFound
from marketplace.routing.channels import outbound
from marketplace.routing.chat import services as chats
from marketplace.routing.chat.messages import Posted, post_message
from marketplace.routing.models import (
    BrandChannel,
    Channel,
    ChannelTemplate,
    Conversation,
    FeeCategory,
    Sender,
    TemplateCategory,
    TemplateStatus,
)

NAME = re.compile(r"^[a-z0-9_]{1,512}$")  # Meta's template names: lower-case letters, digits, underscores
LANGUAGE = re.compile(r"^[a-z]{2,3}(_[A-Za-z]{2,4})?$")  # Meta's codes: en, en_US, zh_CN, sr_Latn...
PLACEHOLDER = re.compile(r"\{\{\s*(\d+)\s*\}\}")
BODY_LENGTH = 1024  # Meta's limit for a template's body
PARAMETER_LENGTH = 1024
FIELDS = ("name", "language", "category", "body", "status")


def placeholders(body: str) -> int:
    """How many parameters a body takes: its placeholders must be {{1}} to {{n}}, each at least once."""
    numbers = {int(number) for number in PLACEHOLDER.findall(body)}
    if numbers != set(range(1, len(numbers) + 1)):
        raise InvalidInput(_l("Number the placeholders {{1}}, {{2}}... without a gap."), "body")
    return len(numbers)


def filled(body: str, parameters: list[str]) -> str:
    """The body as the customer reads it: each placeholder replaced by its parameter."""
    return PLACEHOLDER.sub(lambda match: parameters[int(match.group(1)) - 1], body)


def _clean(values: dict[str, object], current: ChannelTemplate | None) -> dict[str, object]:
    """The fields given (all of them for a new template), each checked; a refusal names its field."""
    cleaned: dict[str, object] = {}
    for field in FIELDS:
        if field not in values and current is not None:
            continue
        value = values.get(field)
        value = value.strip() if isinstance(value, str) else value
        if field == "name" and not (isinstance(value, str) and NAME.match(value)):
            raise InvalidInput(_l("Give the template's name as WhatsApp Manager shows it (lower-case letters, "
                                  "digits and underscores)."), field)
        if field == "language" and not (isinstance(value, str) and LANGUAGE.match(value)):
            raise InvalidInput(_l("Give the template's language code, such as en_US or fr."), field)
        if field == "category":
            value = _choice(TemplateCategory, value, field, _l("Choose marketing, utility or authentication."))
        if field == "status":
            value = _choice(TemplateStatus, value, field, _l("Choose approved, pending or rejected."))
        if field == "body":
            if not isinstance(value, str) or not value or len(value) > BODY_LENGTH:
                raise InvalidInput(_l("Write the template's text (at most 1024 characters)."), field)
            cleaned["parameters"] = placeholders(value)
        cleaned[field] = value
    return cleaned


def _choice(kind, value: object, field: str, message) -> object:
    try:
        return kind(value) if isinstance(value, str) else None
    except ValueError:
        raise InvalidInput(message, field) from None


def _channel(actor: Actor, brand_id: int, channel_id: int, need: BrandRole) -> BrandChannel:
    """One of the brand's accounts (another brand's is not found); templates are WhatsApp's only."""
    brands.get_brand(actor, brand_id, need=need)
    channel = db.session.scalar(sa.select(BrandChannel).where(BrandChannel.id == channel_id,
                                                               BrandChannel.brand_id == brand_id))
    if channel is None:
        raise NotFound(_l("No such channel."))
    return channel


def _template(channel_id: int, template_id: int) -> ChannelTemplate:
    template = db.session.scalar(sa.select(ChannelTemplate).where(ChannelTemplate.id == template_id,
                                                                   ChannelTemplate.channel_id == channel_id))
    if template is None:
        raise NotFound(_l("No such template."))
    return template


def _taken(channel_id: int, name: object, language: object, but: int | None = None) -> None:
    query = sa.select(ChannelTemplate.id).where(ChannelTemplate.channel_id == channel_id,
                                                ChannelTemplate.name == name, ChannelTemplate.language == language)
    if but is not None:
        query = query.where(ChannelTemplate.id != but)
    if db.session.scalar(query) is not None:
        raise Conflict(_l("This number has a template of this name in this language already."), "name")


def _flushed(template: ChannelTemplate) -> None:
    try:
        db.session.flush()
    except sa.exc.IntegrityError:  # the same name and language recorded at the same moment
        raise Conflict(_l("This number has a template of this name in this language already."), "name") from None


def _audit(event: str, actor: Actor, brand_id: int, template: ChannelTemplate) -> None:
    accounts.record_audit(event, actor_id=None if actor.is_token else actor.id, brand_id=brand_id,
                          channel_id=template.channel_id, template_id=template.id, name=template.name,
                          language=template.language, token_id=getattr(actor, "token_id", None))


def list_templates(actor: Actor, brand_id: int, channel_id: int) -> list[ChannelTemplate]:
    """The number's templates by name and language (any of the brand's people may see them)."""
    _channel(actor, brand_id, channel_id, BrandRole.VIEWER)
    found = list(db.session.scalars(sa.select(ChannelTemplate).where(ChannelTemplate.channel_id == channel_id)
                                    .order_by(ChannelTemplate.name, ChannelTemplate.language)))
    end_read()
    return found


@use_case
def create_template(actor: Actor, brand_id: int, channel_id: int, values: dict[str, object]) -> ChannelTemplate:
    """Record one of the number's templates (the brand's admins); audited as `channel_template_created`."""
    channel = _channel(actor, brand_id, channel_id, BrandRole.ADMIN)
    if channel.kind != Channel.WHATSAPP:
        raise Conflict(_l("Message templates belong to WhatsApp numbers."), "channel_id")
    cleaned = _clean(values, None)
    _taken(channel_id, cleaned["name"], cleaned["language"])
    now = utcnow()
    template = ChannelTemplate(channel_id=channel_id, created_at=now, updated_at=now, **cleaned)
    db.session.add(template)
    _flushed(template)
    _audit("channel_template_created", actor, brand_id, template)
    return template


@use_case
def update_template(actor: Actor, brand_id: int, channel_id: int, template_id: int,
                    values: dict[str, object]) -> ChannelTemplate:
    """Change the fields given (the brand's admins): its status once Meta reviewed it, its text..."""
    _channel(actor, brand_id, channel_id, BrandRole.ADMIN)
    template = _template(channel_id, template_id)
    cleaned = _clean(values, template)
    _taken(channel_id, cleaned.get("name", template.name), cleaned.get("language", template.language), template.id)
    for field, value in cleaned.items():
        setattr(template, field, value)
    template.updated_at = utcnow()
    _flushed(template)
    _audit("channel_template_updated", actor, brand_id, template)
    return template


@use_case
def delete_template(actor: Actor, brand_id: int, channel_id: int, template_id: int) -> None:
    """Forget one (the brand's admins); messages sent with it keep their text and their send."""
    _channel(actor, brand_id, channel_id, BrandRole.ADMIN)
    template = _template(channel_id, template_id)
    _audit("channel_template_deleted", actor, brand_id, template)
    db.session.delete(template)


# The expert's side.

def approved_templates(expert_id: int, conversation_id: int) -> list[ChannelTemplate]:
    """What the expert holding a WhatsApp conversation may send in it: its number's approved templates."""
    conversation = chats.expert_conversation(expert_id, conversation_id)
    found = _approved(conversation)
    end_read()
    return found


def _approved(conversation: Conversation) -> list[ChannelTemplate]:
    if conversation.channel != Channel.WHATSAPP or conversation.channel_id is None:
        return []
    return list(db.session.scalars(sa.select(ChannelTemplate).where(
        ChannelTemplate.channel_id == conversation.channel_id, ChannelTemplate.status == TemplateStatus.APPROVED)
        .order_by(ChannelTemplate.name, ChannelTemplate.language)))


def _clean_parameters(parameters: object, expected: int) -> list[str]:
    """The template's parameters: as many as its placeholders, each a short line of text (Meta refuses line
    breaks and tabs in them)."""
    if not isinstance(parameters, list) or len(parameters) != expected:
        raise InvalidInput(lazy_ngettext("This template takes %(num)d parameter.", "This template takes %(num)d "
                                         "parameters.", expected), "parameters")
    cleaned = []
    for value in parameters:
        value = value.strip() if isinstance(value, str) else value
        if (not isinstance(value, str) or not value or len(value) > PARAMETER_LENGTH
                or any(character in value for character in "\n\r\t")):
            raise InvalidInput(_l("Fill in every parameter, each on one line."), "parameters")
        cleaned.append(value)
    return cleaned


def send_template(expert_id: int, author_id: int | None, conversation_id: int, template_id: object,
                  parameters: object, client_id: object = None) -> Posted:
    """The expert holding a WhatsApp conversation sends one of its number's approved templates (window open or
    closed): stored once as their message, the parameters filled in, and sent as that template. Anything refused
    (a template not approved, the wrong number of parameters) is refused before anything is stored."""
    conversation = chats.expert_conversation(expert_id, conversation_id)
    templates = {template.id: template for template in _approved(conversation)}
    template = templates.get(template_id) if isinstance(template_id, int) else None
    if template is None:
        raise InvalidInput(_l("Choose one of the number's approved templates."), "template_id")
    values = _clean_parameters(parameters, template.parameters)
    body, send = filled(template.body, values), outbound.TemplateSend(
        template.name, template.language, tuple(values), FeeCategory(template.category.value))
    end_read()
    with outbound.as_template(send):
        return post_message(conversation_id, Sender.EXPERT, client_id or uuid.uuid4().hex, body,
                            author_id=author_id, expert_id=expert_id)
