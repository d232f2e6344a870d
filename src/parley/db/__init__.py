"""Database layer: declarative base, column types, engine and unit-of-work sessions."""
