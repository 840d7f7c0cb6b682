"""The configuration floor: defaults, a user's file, the environment."""

from __future__ import annotations

from leadscore.config import default_config, load_config


def test_each_history_store_gets_its_own_live_store_unless_the_config_names_one(tmp_path,
                                                                              monkeypatch):
    monkeypatch.delenv("LEADSCORE_STORE", raising=False)
    assert load_config()["live"]["url"] == default_config()["live"]["url"]  # sqlite:///data/live.db
    other = tmp_path / "x.yaml"
    other.write_text("store: data/x-education.duckdb\n")
    # a second store must never merge the first one's events and verdicts into its reviews
    assert load_config(other)["live"]["url"] == "sqlite:///data/x-education.live.db"
    monkeypatch.setenv("LEADSCORE_STORE", str(tmp_path / "crm.duckdb"))
    assert load_config()["live"]["url"] == f"sqlite:///{tmp_path / 'crm.live.db'}"
    named = tmp_path / "named.yaml"
    named.write_text("store: data/x.duckdb\nlive: {url: 'postgresql+psycopg://u@h/db'}\n")
    assert load_config(named)["live"]["url"] == "postgresql+psycopg://u@h/db"
