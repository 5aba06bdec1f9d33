"""What every domain package shares: the clock, errors and small model helpers."""
