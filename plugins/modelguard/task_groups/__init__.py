"""Reusable groups of modelguard tasks, as TaskGroup subclasses with named entry and exits."""
