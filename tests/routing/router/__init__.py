"""Tests of the router: decisions, offers, admission at the door, and the counters under load."""
