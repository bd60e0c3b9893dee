"""Outbound delivery of events and verification of inbound ones. Imports the engine only."""
