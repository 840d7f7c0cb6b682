"""The review cycle: dataset, LightGBM, calibration, threshold, SHAP, gates, MLflow, report."""
