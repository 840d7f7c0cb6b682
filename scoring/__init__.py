"""The model artifact: the scoring bundle, the compiled forest, exact reasons, the MLflow pyfunc.

One scoring path (``ScoringBundle.score_records`` and ``score_frame``) used by the API, the pyfunc
(``spark_udf``), ``leadscore score`` and the review. Imports only ``features`` and ``leadscore``.
"""
