"""The brand's console for its chats: live view, dashboard, transcripts, expert figures, widget settings and caps."""
