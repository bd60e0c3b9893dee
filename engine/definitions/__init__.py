"""What designers deploy: bundles of diagrams, decision tables, forms and profiles; their
validation, immutable versions, the diagram a running phase follows, and dry runs."""
