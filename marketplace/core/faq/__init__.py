"""The FAQ bot's judgement as plain values: which entry of a brand's base answers a visitor's message, how sure
that is, and what the bot must not answer at all (a person, an order, a complaint, small talk)."""
