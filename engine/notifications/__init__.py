"""Alerts that reach people: email notifications and calendar feeds."""
