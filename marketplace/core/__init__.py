"""Pure logic: standard library (and numpy for staffing math) only, no framework, no database."""
