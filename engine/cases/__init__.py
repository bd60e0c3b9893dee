"""The case as a record: opening one from a hotline report, its people, allegations and contacts,
reading it (the reporter redacted, sensitive reads audited), and its restriction."""
