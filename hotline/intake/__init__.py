"""统一受理: every channel's appeals enter here: photos, duplicate hints, the operator console."""
