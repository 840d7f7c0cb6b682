"""leadscore: lead scoring that learns from the sales team's verdicts.

This package is the ground floor: configuration (``leadscore.config``, ``default.yaml``) and the
one error type users see (``leadscore.errors``). It imports none of the project's other packages;
the command line is ``cli``, the demo generator ``generator``.
"""

__version__ = "0.1.0"
