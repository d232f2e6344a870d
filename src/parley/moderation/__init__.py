"""Moderation: the ordered pipeline of small phases that decides a comment's status."""
