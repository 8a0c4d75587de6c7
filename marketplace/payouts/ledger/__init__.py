"""The ledger: its balanced transactions and balances, and the check of its invariants."""
