"""The Kayse Public API: the client, its pacing, and the endpoint table."""
