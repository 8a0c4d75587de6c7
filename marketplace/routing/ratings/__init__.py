"""The expert's side of a rating: contesting one (the brand keeps or removes it) and reporting an abusive visitor."""
