"""casework's core: process definitions, cases, process instances and their persistence.

This package knows nothing of the web, the command line, the scheduler or HTTP clients.
"""
