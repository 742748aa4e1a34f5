"""What every app shares and nothing domain-specific. Imports nothing of the project."""
