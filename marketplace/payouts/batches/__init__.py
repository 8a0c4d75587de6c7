"""Payout batches: drafted, approved, submitted item by item, and settled by what the rails report."""
