"""The command-line shell (``leadscore ...``): the top floor, the one package importing them all.

``cli.main`` holds the commands, with ``cli.between_reviews`` (history, export-scores, monitor)
and ``cli.options`` (what every command shares); ``cli.serve`` launches the BentoML service,
``cli.demo`` runs the README's ``make demo``.
"""
