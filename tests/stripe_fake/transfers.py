"""Transfers to connected accounts and their reversals."""

from __future__ import annotations

from typing import Any

from tests.stripe_fake import params as p
from tests.stripe_fake.book import PLATFORM, Book, Caller
from tests.stripe_fake.params import StripeError


class Transfers(Book):
    """`/v1/transfers` and `/v1/transfers/{id}/reversals`."""

    def create_transfer(self, params: dict[str, Any], caller: Caller) -> dict[str, Any]:
        p.reject_unknown(params, {"amount", "currency", "destination", "metadata", "transfer_group",
                                  "description", "source_transaction", "source_type", "expand"})
        amount = p.integer(params, "amount", required=True, minimum=1)
        currency = p.currency(params)
        destination = p.string(params, "destination", required=True)
        metadata = p.metadata(params) or {}
        transfer_group = p.string(params, "transfer_group")
        description = p.string(params, "description")
        if params.get("source_transaction"):
            raise p.missing("charge", params["source_transaction"], "source_transaction", status=400)
        source_type = p.string(params, "source_type", choices=("bank_account", "card", "fpx")) or "card"
        account = self.accounts.get(destination)
        if account is None:
            raise StripeError(400, f"No such destination: '{destination}'", code="resource_missing",
                              param="destination")
        if account["capabilities"].get("transfers") != "active":
            raise StripeError(400, "Your destination account needs to have at least one of the following "
                              "capabilities enabled: transfers, crypto_transfers, legacy_payments",
                              code="insufficient_capabilities_for_transfer", param="destination")
        if self.balance_of(PLATFORM).get(currency, 0) < amount:
            raise StripeError(400, "You have insufficient available funds in your Stripe account. Try adding "
                              "funds directly to your available balance by creating Charges using the "
                              "4000000000000077 test card.", code="balance_insufficient")
        transfer_id = self.new_id("tr")
        transfer = {
            "id": transfer_id,
            "object": "transfer",
            "amount": amount,
            "amount_reversed": 0,
            "balance_transaction": self.new_id("txn"),
            "created": self.now(),
            "currency": currency,
            "description": description,
            "destination": destination,
            "destination_payment": self.new_id("py"),
            "livemode": False,
            "metadata": metadata,
            "reversals": {"object": "list", "data": [], "has_more": False, "total_count": 0,
                          "url": f"/v1/transfers/{transfer_id}/reversals"},
            "reversed": False,
            "source_transaction": None,
            "source_type": source_type,
            "transfer_group": transfer_group,
        }
        self.move(PLATFORM, destination, currency, amount)
        self.transfers[transfer_id] = transfer
        self.emit("transfer.created", transfer, caller)
        return transfer

    def transfer(self, transfer_id: str) -> dict[str, Any]:
        try:
            return self.transfers[transfer_id]
        except KeyError:
            raise p.missing("transfer", transfer_id) from None

    def update_transfer(self, transfer_id: str, params: dict[str, Any], caller: Caller) -> dict[str, Any]:
        transfer = self.transfer(transfer_id)
        p.reject_unknown(params, {"description", "metadata", "expand"})
        changes: dict[str, Any] = {}
        if (description := p.string(params, "description")) is not None:
            changes["description"] = description
        if (metadata := p.metadata(params, transfer["metadata"])) is not None:
            changes["metadata"] = metadata
        previous = {key: transfer[key] for key, value in changes.items() if transfer[key] != value}
        if previous:
            transfer.update(changes)
            self.emit("transfer.updated", transfer, caller, previous=previous)
        return transfer

    def list_transfers(self, params: dict[str, Any]) -> dict[str, Any]:
        p.reject_unknown(params, {"limit", "starting_after", "ending_before", "destination", "transfer_group",
                                  "created", "expand"})
        destination = p.string(params, "destination")
        group = p.string(params, "transfer_group")
        return self.page(self.transfers.values(), params, "/v1/transfers",
                         lambda t: (destination is None or t["destination"] == destination)
                         and (group is None or t["transfer_group"] == group))

    def create_reversal(self, transfer_id: str, params: dict[str, Any], caller: Caller) -> dict[str, Any]:
        transfer = self.transfer(transfer_id)
        p.reject_unknown(params, {"amount", "description", "metadata", "refund_application_fee", "expand"})
        remaining = transfer["amount"] - transfer["amount_reversed"]
        amount = p.integer(params, "amount", minimum=1, default=remaining)
        p.boolean(params, "refund_application_fee")
        metadata = p.metadata(params) or {}
        if remaining == 0:
            raise StripeError(400, f"Transfer {transfer_id} is already fully reversed.", param="amount")
        if amount > remaining:
            raise StripeError(400, f"Amount ({amount}) is greater than the unreversed amount on the transfer "
                              f"({remaining}).", code="amount_too_large", param="amount")
        reversal = {
            "id": self.new_id("trr"),
            "object": "transfer_reversal",
            "amount": amount,
            "balance_transaction": self.new_id("txn"),
            "created": self.now(),
            "currency": transfer["currency"],
            "destination_payment_refund": self.new_id("pyr"),
            "metadata": metadata,
            "source_refund": None,
            "transfer": transfer_id,
        }
        previous = {"amount_reversed": transfer["amount_reversed"], "reversed": transfer["reversed"]}
        transfer["amount_reversed"] += amount
        transfer["reversed"] = transfer["amount_reversed"] == transfer["amount"]
        listing = transfer["reversals"]
        listing["data"].insert(0, reversal)
        listing["total_count"] += 1
        self.reversals[reversal["id"]] = reversal
        self.move(transfer["destination"], PLATFORM, transfer["currency"], amount)
        self.emit("transfer.reversed", transfer, caller,
                  previous={key: value for key, value in previous.items() if transfer[key] != value})
        return reversal

    def reversal(self, transfer_id: str, reversal_id: str) -> dict[str, Any]:
        reversal = self.reversals.get(reversal_id)
        if reversal is None or reversal["transfer"] != self.transfer(transfer_id)["id"]:
            raise p.missing("transfer_reversal", reversal_id)
        return reversal

    def list_reversals(self, transfer_id: str, params: dict[str, Any]) -> dict[str, Any]:
        transfer = self.transfer(transfer_id)
        p.reject_unknown(params, {"limit", "starting_after", "ending_before", "expand"})
        oldest_first = list(reversed(transfer["reversals"]["data"]))
        return self.page(oldest_first, params, f"/v1/transfers/{transfer_id}/reversals")
