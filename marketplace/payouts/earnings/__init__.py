"""Earnings of answered chats, their fraud checks, and the disputes and reviews that decide on them."""
