"""Email delivery: the message, the SMTP or outbox transport, and the ledger that sends it once."""
