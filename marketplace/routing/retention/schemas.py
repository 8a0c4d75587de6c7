"""What the API answers when a brand erases one of its contacts."""

from marshmallow import fields

from marketplace.web.schemas import Schema


class ErasedSchema(Schema):
    contact_id = fields.Integer(dump_only=True, metadata={"description": "The contact erased (it no longer exists)."})
    conversations = fields.Integer(dump_only=True, metadata={
        "description": "The brand's conversations with them whose text, files and identifiers were removed."})
    files = fields.Integer(dump_only=True, metadata={"description": "Files deleted."})
