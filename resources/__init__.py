"""Data files shipped with mogui: example projects, JSON schema, icons."""
