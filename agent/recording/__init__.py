"""Recording: the run state machine over decoded sensor readings, and intensity."""
