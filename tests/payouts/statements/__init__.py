"""Tests of statements and invoices."""
