"""Tests of left messages: leaving one, the inbox, and the brand's replies."""
