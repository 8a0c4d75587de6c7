"""Contacts: visitors who proved an address, each a contact of one brand only; their history; merging two."""
