"""Process instances of a case: starting one, running an engine step and settling it into the
record, routing the messages a step throws, and casework's own commands."""
