"""Data contract, ingestion, label policy, and the fit + intent feature definitions.

Everything here is shared by training, batch scoring and the API: feature code exists once.
"""
