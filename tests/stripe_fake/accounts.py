"""Connected accounts and their onboarding links."""

from __future__ import annotations

from typing import Any

from tests.stripe_fake import params as p
from tests.stripe_fake.book import Book, Caller

EURO_COUNTRIES = {"AT", "BE", "CY", "DE", "EE", "ES", "FI", "FR", "GR", "HR", "IE", "IT", "LT", "LU", "LV", "MT",
                  "NL", "PT", "SI", "SK"}
OTHER_CURRENCIES = {"GB": "gbp", "US": "usd", "CH": "chf", "CA": "cad", "AU": "aud", "DK": "dkk", "SE": "sek",
                    "NO": "nok", "PL": "pln"}
LINK_LIFETIME = 300
ONBOARDING_REQUIREMENTS = ["external_account", "individual.verification.document", "tos_acceptance.date"]


class Accounts(Book):
    """`/v1/accounts` and `/v1/account_links`."""

    def create_account(self, params: dict[str, Any], caller: Caller) -> dict[str, Any]:
        p.reject_unknown(params, {"type", "country", "email", "capabilities", "metadata", "business_type",
                                  "business_profile", "default_currency", "controller", "individual",
                                  "company", "settings", "tos_acceptance", "expand"})
        kind = p.string(params, "type", choices=("express", "custom", "standard")) or "standard"
        country = (p.string(params, "country") or "FR").upper()
        if len(country) != 2:
            raise p.invalid(f"Invalid country: {country}", "country")
        email = p.string(params, "email")
        business_type = p.string(params, "business_type",
                                 choices=("individual", "company", "non_profit", "government_entity"))
        default_currency = p.currency(params, "default_currency", required=False)
        capabilities = self._requested_capabilities(params, {"transfers": "inactive"})
        metadata = p.metadata(params) or {}
        account = {
            "id": self.new_id("acct"),
            "object": "account",
            "business_profile": params.get("business_profile") if isinstance(params.get("business_profile"),
                                                                             dict) else {},
            "business_type": business_type,
            "capabilities": capabilities,
            "charges_enabled": False,
            "country": country,
            "created": self.now(),
            "default_currency": default_currency or self._currency_of(country),
            "details_submitted": False,
            "email": email,
            "livemode": False,
            "metadata": metadata,
            "payouts_enabled": False,
            "requirements": self._requirements(done=False),
            "type": kind,
        }
        self.accounts[account["id"]] = account
        self.balances[account["id"]] = {}
        return account

    def account(self, account_id: str, param: str = "id") -> dict[str, Any]:
        try:
            return self.accounts[account_id]
        except KeyError:
            raise p.missing("account", account_id, param, status=404 if param == "id" else 400) from None

    def update_account(self, account_id: str, params: dict[str, Any], caller: Caller) -> dict[str, Any]:
        account = self.account(account_id)
        p.reject_unknown(params, {"email", "capabilities", "metadata", "business_type", "business_profile",
                                  "default_currency", "individual", "company", "settings", "tos_acceptance",
                                  "expand"})
        changes: dict[str, Any] = {}
        if (email := p.string(params, "email")) is not None:
            changes["email"] = email
        if (business_type := p.string(params, "business_type")) is not None:
            changes["business_type"] = business_type
        if (currency := p.currency(params, "default_currency", required=False)) is not None:
            changes["default_currency"] = currency
        if "capabilities" in params:
            changes["capabilities"] = self._requested_capabilities(params, dict(account["capabilities"]))
        if (metadata := p.metadata(params, account["metadata"])) is not None:
            changes["metadata"] = metadata
        self._change_account(account, changes, caller)
        return account

    def complete_onboarding(self, account_id: str) -> dict[str, Any]:
        """Mark the account as fully onboarded: every capability active, payouts enabled."""
        account = self.account(account_id)
        capabilities = dict.fromkeys(account["capabilities"], "active")
        self._change_account(account, {
            "capabilities": capabilities,
            "charges_enabled": "card_payments" in capabilities,
            "details_submitted": True,
            "payouts_enabled": True,
            "requirements": self._requirements(done=True),
        }, None)
        return account

    def restrict_account(self, account_id: str) -> dict[str, Any]:
        """Take the account's transfers capability and payouts away, as Stripe does when requirements lapse."""
        account = self.account(account_id)
        self._change_account(account, {
            "capabilities": {**account["capabilities"], "transfers": "inactive"},
            "payouts_enabled": False,
            "requirements": self._requirements(done=False),
        }, None)
        return account

    def create_account_link(self, params: dict[str, Any], caller: Caller) -> dict[str, Any]:
        p.reject_unknown(params, {"account", "type", "refresh_url", "return_url", "collect",
                                  "collection_options", "expand"})
        account_id = p.string(params, "account", required=True)
        p.string(params, "type", required=True, choices=("account_onboarding", "account_update"))
        refresh_url = p.string(params, "refresh_url", required=True)
        return_url = p.string(params, "return_url", required=True)
        self.account(account_id, param="account")
        token = self.new_id("link")
        created = self.now()
        self.links[token] = {"account": account_id, "refresh_url": refresh_url, "return_url": return_url,
                             "expires_at": created + LINK_LIFETIME, "used": False}
        return {"object": "account_link", "created": created, "expires_at": created + LINK_LIFETIME,
                "url": f"{self.base_url}/onboarding/{token}"}

    def follow_account_link(self, token: str) -> str | None:
        """Open an onboarding link: the account is onboarded; return where to send the browser next."""
        link = self.links.get(token)
        if link is None:
            return None
        if link["used"] or self.now() > link["expires_at"]:
            return link["refresh_url"]
        link["used"] = True
        self.complete_onboarding(link["account"])
        return link["return_url"]

    def _change_account(self, account: dict[str, Any], changes: dict[str, Any], caller: Caller | None) -> None:
        previous = {key: account[key] for key, value in changes.items() if account[key] != value}
        if not previous:
            return
        account.update(changes)
        self.emit("account.updated", account, caller, previous=previous, account=account["id"])

    def _requested_capabilities(self, params: dict[str, Any], current: dict[str, str]) -> dict[str, str]:
        raw = params.get("capabilities")
        if raw is None:
            return current
        if not isinstance(raw, dict):
            raise p.invalid("Invalid hash for parameter: capabilities", "capabilities")
        for name, options in raw.items():
            requested = p.boolean(options, "requested") if isinstance(options, dict) else None
            if requested is None:
                raise p.invalid("Missing required param: capabilities[" + name + "][requested].",
                                f"capabilities[{name}][requested]", code="parameter_missing")
            if requested:
                current.setdefault(name, "inactive")
            else:
                current.pop(name, None)
        return current

    @staticmethod
    def _currency_of(country: str) -> str:
        return "eur" if country in EURO_COUNTRIES else OTHER_CURRENCIES.get(country, "eur")

    @staticmethod
    def _requirements(*, done: bool) -> dict[str, Any]:
        due = [] if done else list(ONBOARDING_REQUIREMENTS)
        return {"currently_due": due, "eventually_due": list(due), "past_due": list(due),
                "pending_verification": [], "errors": [],
                "disabled_reason": None if done else "requirements.past_due"}
