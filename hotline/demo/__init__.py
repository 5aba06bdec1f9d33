"""Demo data: a city, its units, users, categories and a few hundred tickets in every state."""
