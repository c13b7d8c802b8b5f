"""Sensor drivers: everything between a BLE notification (or a simulated one) and a reading."""
