"""Tests of the finance console's reports."""
