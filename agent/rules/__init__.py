"""Pure rules: (history, settings, now) -> list[Alert].

No database, no clock, no I/O: the history and ``now`` are passed in, so a check, a what-if
plan and a test all go through the same code. One module per concern, each importing only
the ones before it (no cycles): ``load`` (the load model), ``pain``, ``plan`` (the return
plan), ``allowance`` (how far the next run and the week may go), ``progression``, and
``evaluate`` (every rule at once, worst first). This file imports nothing, so importing one
rule never loads the others.
"""
