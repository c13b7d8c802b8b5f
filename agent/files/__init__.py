"""Activity files from watches and apps: FIT, TCX and GPX readers, sports, exports.

Each reader turns one file into :class:`~agent.files.activity.Activity` values (one per
activity or multisport leg); :mod:`agent.files.importer` checks them and stores the runs.
"""
