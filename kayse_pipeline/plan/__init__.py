"""Pure planning: (manifest, state) -> the requests apply or destroy would send."""
