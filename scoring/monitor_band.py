"""The band the monitor judges served MQLs' conversion against: the one the champion was
reviewed with (its manifest), which a config edited since may no longer name."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from features.messages import percent


def champion_band(manifest: Mapping[str, Any], config: Mapping[str, Any]) -> tuple[float, float]:
    """The champion's band, or the config's for a manifest that has none."""
    band = manifest.get("band") or config["cycle"]["band"]
    return float(band["min"]), float(band["max"])


def band_words(band: tuple[float, float], config: Mapping[str, Any]) -> str:
    """"the agreed band of 25%-50%", and what the config says now when it changed since."""
    text = f"the agreed band of {percent(band[0])}-{percent(band[1])}"
    now = config["cycle"]["band"]
    if (float(now["min"]), float(now["max"])) != band:
        text += (f" its review was held to (cycle.band is {percent(float(now['min']))}-"
                 f"{percent(float(now['max']))} now: the next review judges against that)")
    return text
