"""Pure rules: (history, settings, now) -> list[Alert]."""
