"""Data rows: contacts and cases made from CSV and JSON Lines files."""
