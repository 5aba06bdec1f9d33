"""What citizens reply to unsubscribe: the words Chinese carriers and SMS providers treat as 退订."""

OPT_OUT_WORDS = frozenset({"TD", "T", "退订", "退"})
