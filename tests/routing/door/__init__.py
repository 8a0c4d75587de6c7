"""Tests of the door: the widget's calls and what they accept."""
