"""The notification outbox: rows written with the change, delivered by a worker."""
