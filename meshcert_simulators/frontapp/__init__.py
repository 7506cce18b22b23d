"""The reference front service (kind ``front-app``, profile front-service): an app through which a
person, or their proxy, files the online move-out (転出届) on the portal after signing in with
digital authentication."""
