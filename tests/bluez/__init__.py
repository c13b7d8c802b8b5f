"""Mock BlueZ for bleak's real backend: ``rig.py`` (helpers), ``fixtures.py`` (pytest),
``bluez_gatt.py`` (the python-dbusmock template). Start with the docstring of ``rig.py``."""
