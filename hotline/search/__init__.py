"""Chinese search over tickets, duplicate detection and smart dispatch (jieba + PostgreSQL FTS / SQLite FTS5)."""
