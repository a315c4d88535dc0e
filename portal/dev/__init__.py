"""Development tooling: never imported by the running site."""
