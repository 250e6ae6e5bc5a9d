"""``kayse-pipeline init``: a recipe repository that validates and applies at once."""
