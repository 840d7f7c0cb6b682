"""The command-line shell (``leadscore ...``): the top floor, the one package importing them all.

``cli.main`` holds the commands, ``cli.serve`` launches the BentoML service, ``cli.demo`` runs the
README's ``make demo``.
"""
