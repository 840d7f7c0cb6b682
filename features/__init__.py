"""Data contract, ingestion, label policy, and the fit + intent feature definitions.

The ground the model stands on: ``scoring``, ``training`` and ``serving`` build features here and
nowhere else (feature code exists once); this package imports none of them.
"""
