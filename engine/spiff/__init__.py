"""The adapter to SpiffWorkflow, and the only code that imports it: definitions compiled from a
bundle, the restricted script environment with its CPU budget, and the runtime that runs an
engine step and returns what it changed as a value."""
