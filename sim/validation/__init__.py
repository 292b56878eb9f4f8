"""Validation: historical truces, stylized facts and calibration of the global constants."""
