"""The payment rails: Stripe Connect behind the gateway interface, its webhooks, and the SEPA credit-transfer file."""
