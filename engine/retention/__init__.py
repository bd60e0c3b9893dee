"""Records retention: what a case keeps once its work is done, and for how long.

The periods are jurisdiction data (a profile's ``retention``); the housekeeping of casework's
own history (delivered webhook rows, the audit trail's monthly partitions) follows settings.
``runs`` reports what is due and performs it, in batches of one transaction each, audited.
"""
