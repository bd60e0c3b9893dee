"""What the record says happened: the audit trail, and the outbox of events other systems receive,
with the catalogue of their topics."""
