"""The authorization-server simulator (OAuth2 client credentials, JWT access tokens)."""
