"""Statutory deadlines: jurisdiction profiles and calendars, deadlines armed with their BPMN timers
and their escalation ladders, the timer and alert scheduler, and extensions."""
