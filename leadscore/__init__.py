"""leadscore: lead scoring that learns from the sales team's verdicts."""

__version__ = "0.1.0"
