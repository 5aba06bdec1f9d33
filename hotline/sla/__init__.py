"""统一督办: the working-day calendar, SLA policies, deadlines and supervision."""
