"""The results store: a directory of tidy CSV, its schema, staging, validation, file operations
and provenance. Imports nothing else of bench."""
