"""Tests of the expert's side of a rating: contests, the brand's decisions, reports of abusive visitors."""
