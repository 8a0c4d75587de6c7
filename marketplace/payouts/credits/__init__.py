"""FAQ credits: what experts earn when the FAQ bot resolves a conversation with an entry they wrote."""
