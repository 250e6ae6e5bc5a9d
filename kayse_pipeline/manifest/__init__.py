"""Loading and checking a manifest: file -> validated, frozen model."""
