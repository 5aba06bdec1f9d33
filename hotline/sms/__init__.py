"""Two-way SMS: the provider adapters, delivery receipts, citizens' replies and opt-outs (docs/sms.md)."""
