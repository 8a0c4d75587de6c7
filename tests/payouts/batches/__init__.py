"""Tests of payout batches: drafting, approval, submission and settlement."""
