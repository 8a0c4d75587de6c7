"""The router: who is let in at the door, which expert each waiting conversation is offered to, and how offers end."""
