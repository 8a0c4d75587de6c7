"""Tests of the brand console: pages, dashboard, program, transcripts, expert figures."""
