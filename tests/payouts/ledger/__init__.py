"""Tests of the ledger and its check."""
