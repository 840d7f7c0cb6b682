"""The BentoML scoring service. Imports `features`, never `training`."""
