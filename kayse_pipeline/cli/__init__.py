"""The command line: one module per command, and output by format."""
