"""The shapes of the attachment calls: the links to a file, and what the sender is told before sending."""

from marshmallow import fields, validate

from marketplace.web.schemas import Schema


class AttachmentFormSchema(Schema):
    """A file sent in a chat (multipart/form-data); the type is read from the file's content."""

    file = fields.Raw(required=True, metadata={"type": "string", "format": "binary", "description":
                                               "A photo (JPEG, PNG, WebP, HEIC) or a PDF, up to attachment_max_bytes"})
    client_id = fields.String(required=True, validate=validate.Regexp(r"^[A-Za-z0-9_-]{1,64}$"))
    body = fields.String(validate=validate.Length(max=2000), metadata={"description": "An optional caption"})


class AttachmentLinksSchema(Schema):
    url = fields.String(dump_only=True, metadata={"description": "The file; works until expires_at"})
    thumbnail_url = fields.String(dump_only=True, allow_none=True, metadata={
        "description": "A small JPEG of an image; null for a PDF"})
    expires_at = fields.String(dump_only=True, metadata={"format": "date-time"})


class AttachmentRulesSchema(Schema):
    """What a sender is told before choosing a file."""

    attachment_max_bytes = fields.Integer(dump_only=True)
    attachment_types = fields.List(fields.String(), dump_only=True, metadata={
        "description": "Content types taken (decided from the content): photos and PDF"})
