"""Who is asking and what they may do: users, teams, roles and API tokens, web sessions and the
sign-in lockout, the record-level access rules, and breaking the glass."""
