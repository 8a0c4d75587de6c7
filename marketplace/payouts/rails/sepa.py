"""The SEPA rail: a batch's credit-transfer file (pain.001.001.03), the same document every time it is written.

Its message, payment-information and end-to-end ids derive from the batch and its items (sepaxml's own are
random), so a second download is the same file and a bank refuses a second upload of it as a duplicate.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence

from flask import current_app
from flask_babel import lazy_gettext as _l
from sepaxml import SepaTransfer

from marketplace.database import utcnow
from marketplace.errors import Conflict
from marketplace.experts.services import BankAccount
from marketplace.payouts.models import PayoutBatch, PayoutItem


def credit_transfer_file(batch: PayoutBatch, items: Sequence[PayoutItem], banks: Mapping[int, BankAccount]) -> bytes:
    """The batch's file: one line per item, from the platform's account to the expert's bank account."""
    config = current_app.config
    transfer = SepaTransfer({"name": config["PLATFORM_LEGAL_NAME"], "IBAN": config["SEPA_DEBTOR_IBAN"],
                             "BIC": config["SEPA_DEBTOR_BIC"], "batch": True, "currency": batch.currency},
                            clean=True)
    execution = (batch.submitted_at or utcnow()).date()
    for item in items:
        bank = banks.get(item.expert_id)
        if bank is None:
            raise Conflict(_l("An expert of this batch has no bank details on file any more."), "status")
        payment = {"name": bank.account_holder, "IBAN": bank.iban, "amount": item.amount_cents,
                   "execution_date": execution, "description": f"Payout batch {batch.id} item {item.id}",
                   "endtoend_id": end_to_end_id(item.id)}
        if bank.bic:
            payment["BIC"] = bank.bic
        transfer.add_payment(payment)
    return _stable_ids(transfer.export(validate=True), batch.id, batch.submitted_at or utcnow())


def filename(batch_id: int) -> str:
    return f"payout-batch-{batch_id}-sepa.xml"


def end_to_end_id(item_id: int) -> str:
    """The line's id in the file, kept as the item's provider reference once the bank executed it."""
    return f"PAYOUT-ITEM-{item_id}"


def _stable_ids(document: bytes, batch_id: int, created: dt.datetime) -> bytes:
    """Replace sepaxml's random message and payment-information ids with ones derived from the batch."""
    namespace = "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"
    ET.register_namespace("", namespace)
    root = ET.fromstring(document)  # noqa: S314 - sepaxml's output, not outside input
    tag = f"{{{namespace}}}"
    root.find(f"{tag}CstmrCdtTrfInitn/{tag}GrpHdr/{tag}MsgId").text = f"PAYOUT-BATCH-{batch_id}"
    root.find(f"{tag}CstmrCdtTrfInitn/{tag}GrpHdr/{tag}CreDtTm").text = created.strftime("%Y-%m-%dT%H:%M:%S")
    for number, info in enumerate(root.iter(f"{tag}PmtInfId"), start=1):
        info.text = f"PAYOUT-BATCH-{batch_id}-{number}"
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)
