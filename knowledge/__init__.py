"""Courses, providers, regulations and the skills taxonomy (filled by the knowledge-base issue)."""
