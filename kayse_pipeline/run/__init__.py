"""The only code that talks to both the API client and the state store."""
