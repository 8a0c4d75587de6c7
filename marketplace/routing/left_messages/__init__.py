"""Messages visitors leave for the brand when no expert answers, and the brand's replies by e-mail."""
