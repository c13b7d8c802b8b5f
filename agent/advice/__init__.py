"""Advice: the history read from the store and run through the rules (check, summary,
what-if, plan status), with the JSON each command prints."""
