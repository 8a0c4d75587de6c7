"""Tests of the payment rails: Stripe Connect, its webhooks, and the Stripe fake the tests pay through."""
