"""Shared runtime of the Switchyard services."""
