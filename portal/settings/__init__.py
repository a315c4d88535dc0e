"""Settings package: ``base`` reads every environment variable; the others adjust it per environment."""
