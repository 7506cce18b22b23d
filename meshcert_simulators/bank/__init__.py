"""The reference private service: a bank's account-opening service, an OpenID Connect relying
party of digital authentication that gets the person's basic facts from the gov-private API
gateway (profile private-service)."""
