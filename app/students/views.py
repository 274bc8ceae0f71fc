"""Student screens: list and search, registration with the duplicate warning, CSV import."""
