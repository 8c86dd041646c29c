"""Exploration: the breadth-first search over the readable rules (`interpreted`)."""
