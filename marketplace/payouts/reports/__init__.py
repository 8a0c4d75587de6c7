"""The finance console's reports: CSV exports, the reconciliation with the payment provider, the money audit log."""
