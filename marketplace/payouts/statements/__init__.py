"""Statements and invoices: what the expert's monthly statement and the brand's invoice say, and their files."""
