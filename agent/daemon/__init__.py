"""The daemon: the supervisor, its timetable, live alerts, delivery of notifications and
speech, and the systemd user service."""
