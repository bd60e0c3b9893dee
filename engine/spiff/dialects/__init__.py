"""Diagrams written for other engines (Camunda 7, Zeebe, Flowable), read as casework runs them."""
