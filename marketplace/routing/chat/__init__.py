"""The chat itself: messages, and the expert's side of their chats (inbox, offers, sockets)."""
