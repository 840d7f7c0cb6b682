"""Fit parsers on tiny inline data, and the feature registry they feed."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

from features import fit
from features.definitions import (
    FeatureSpec,
    attribute_spec,
    feature_specs,
    slug,
)
from features.reason_labels import render_reason
from leadscore.config import default_config

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Chief Revenue Officer", "c_level"),
        ("CEO", "c_level"),
        ("Founder & CEO", "c_level"),
        ("Co-Founder", "c_level"),
        ("President", "c_level"),
        ("Managing Director", "c_level"),
        ("SVP Sales", "vp"),
        ("Vice President, Marketing", "vp"),
        ("Executive Vice President", "vp"),
        ("V.P. Engineering", "vp"),
        ("Head of Marketing", "director"),
        ("Director of IT", "director"),
        ("Sr. Director, Demand Generation", "director"),
        ("Sr. Manager", "manager"),
        ("Marketing Manager", "manager"),
        ("Team Lead, Support", "manager"),
        ("Marketing Intern", "student"),
        ("Student", "student"),
        ("PhD Student", "student"),
        ("Account Executive", "individual"),
        ("Software Engineer", "individual"),
        ("Product Owner", "individual"),
        ("  data analyst ", "individual"),
        ("", "unknown"),
        ("Select", "unknown"),
        (None, "unknown"),
        (float("nan"), "unknown"),
        ("---", "unknown"),
    ],
)
def test_seniority(title, expected):
    assert fit.seniority(title) == expected


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Chief Revenue Officer", "sales"),
        ("SVP Sales", "sales"),
        ("Account Executive", "sales"),
        ("Business Development Representative", "sales"),
        ("Head of Marketing", "marketing"),
        ("CMO", "marketing"),
        ("Marketing Intern", "marketing"),
        ("Software Engineer", "engineering"),
        ("CTO", "engineering"),
        ("Director of IT", "it"),
        ("CFO", "finance"),
        ("Financial Controller", "finance"),
        ("VP Operations", "operations"),
        ("HR Business Partner", "hr"),
        ("Talent Acquisition Manager", "hr"),
        ("Founder & CEO", "executive"),
        ("President", "executive"),
        ("Student", "other"),
        ("Teacher", "other"),
        (None, "unknown"),
        ("N/A", "unknown"),
    ],
)
def test_department(title, expected):
    assert fit.department(title) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("250", "201-1000"),
        ("51-200", "51-200"),
        ("5000+", "5001+"),
        ("10,000", "5001+"),
        ("1001-5000", "1001-5000"),
        ("1,001-5,000", "1001-5000"),
        ("1-10", "1-10"),
        ("11-50 employees", "11-50"),
        ("201 to 500", "201-1000"),
        ("501-1000", "201-1000"),
        ("10001+", "5001+"),
        ("1000+", "1001-5000"),
        ("<10", "1-10"),
        ("1.5k", "1001-5000"),
        ("Self-employed", "1-10"),
        (250, "201-1000"),
        (250.0, "201-1000"),
        ("10", "1-10"),
        ("11", "11-50"),
        ("200", "51-200"),
        ("201", "201-1000"),
        ("5000", "1001-5000"),
        ("5001", "5001+"),
        ("", "unknown"),
        ("Select", "unknown"),
        ("unknown", "unknown"),
        ("large", "unknown"),
        (None, "unknown"),
    ],
)
def test_company_size_band(raw, expected):
    assert fit.company_size_band(raw) == expected


@pytest.mark.parametrize(
    ("raw", "country", "region"),
    [
        ("US", "united states", "north_america"),
        ("USA", "united states", "north_america"),
        ("U.S.A.", "united states", "north_america"),
        ("United States", "united states", "north_america"),
        ("united states of america", "united states", "north_america"),
        ("UK", "united kingdom", "europe"),
        ("England", "united kingdom", "europe"),
        (" Germany ", "germany", "europe"),
        ("DE", "germany", "europe"),
        ("India", "india", "apac"),
        ("Brazil", "brazil", "latam"),
        ("UAE", "united arab emirates", "mea"),
        ("Canada", "canada", "north_america"),
        ("Atlantis", "atlantis", "unknown"),
        ("  New   Zealand", "new zealand", "apac"),
        ("", None, "unknown"),
        ("Select", None, "unknown"),
        (None, None, "unknown"),
    ],
)
def test_country_and_region(raw, country, region):
    assert fit.normalise_country(raw) == country
    assert fit.region(fit.normalise_country(raw)) == region


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Paid Search", "paid_search"),
        ("paid_search", "paid_search"),
        ("PAID SEARCH", "paid_search"),
        (" Paid-Search ", "paid_search"),
        ("Olark Chat", "olark_chat"),
        ("", None),
        ("Select", None),
        (None, None),
    ],
)
def test_source(raw, expected):
    assert fit.normalise_source(raw) == expected


def test_industry_is_lower_trimmed_and_collapsed():
    assert fit.normalise_industry("  Financial   Services ") == "financial services"
    assert fit.normalise_industry("SOFTWARE") == "software"
    assert fit.normalise_industry("N/A") is None


@pytest.mark.parametrize(
    ("domain", "expected"),
    [
        ("gmail.com", 1.0),
        ("GMail.com", 1.0),
        ("@yahoo.co.uk", 1.0),
        ("web.de", 1.0),
        ("acme.com", 0.0),
        ("mail.acme.de", 0.0),
        ("acme.co.uk", 0.0),
    ],
)
def test_free_email(domain, expected):
    assert fit.free_email(domain) == expected


def test_free_email_is_nan_without_domain():
    assert math.isnan(fit.free_email(None))
    assert math.isnan(fit.free_email(""))


def test_email_address_reduces_to_domain():
    assert fit.email_domain("Jane.Doe@Acme.COM") == "acme.com"
    assert fit.email_domain("not an address") is None


ICP = fit.icp_lists(default_config())


def _lead(**fields):
    base = {"title": "VP Marketing", "company_size": "250", "industry": "Software",
            "country": "USA", "email_domain": "acme.com", "source": "Paid Search"}
    base.update(fields)
    return base


def test_icp_match_needs_every_listed_field():
    assert fit.fit_features(_lead(), ICP)["icp_match"] == 1.0
    assert fit.fit_features(_lead(title="Student"), ICP)["icp_match"] == 0.0
    assert fit.fit_features(_lead(company_size="5"), ICP)["icp_match"] == 0.0
    assert fit.fit_features(_lead(industry="Retail"), ICP)["icp_match"] == 0.0
    assert fit.fit_features(_lead(country="India"), ICP)["icp_match"] == 0.0
    assert fit.fit_features(_lead(industry="  SOFTWARE "), ICP)["icp_match"] == 1.0


def test_icp_list_left_empty_is_not_checked():
    icp = fit.icp_lists({"icp": {"seniorities": ["vp"]}})
    assert fit.fit_features(_lead(industry="Retail", country="India"), icp)["icp_match"] == 1.0


def test_completeness_counts_the_six_fit_fields():
    assert fit.fit_features(_lead(), ICP)["completeness"] == 1.0
    half = _lead(title="Select", industry="", country=None)
    assert fit.fit_features(half, ICP)["completeness"] == 0.5
    assert fit.fit_features({}, ICP)["completeness"] == 0.0


def test_email_stands_in_for_a_missing_domain():
    lead = _lead(email_domain=None, email="jane@gmail.com")
    features = fit.fit_features(lead, ICP)
    assert features["free_email"] == 1.0
    assert features["completeness"] == 1.0


# ---- registry -----------------------------------------------------------------------------------

def test_every_feature_has_one_group_one_kind_and_a_unique_name():
    specs = feature_specs({"Visits": ("intent", "numeric"), "City": ("fit", "categorical")},
                          default_config())
    names = [s.name for s in specs]
    assert len(names) == len(set(names))
    assert {s.group for s in specs} == {"fit", "intent"}
    assert all(s.kind in ("numeric", "categorical") for s in specs)
    assert "attr_visits" in names and "attr_city" in names
    groups = {s.name: s.group for s in specs}
    assert groups["attr_visits"] == "intent" and groups["attr_city"] == "fit"
    assert groups["seniority"] == "fit" and groups["n_pricing_view_7d"] == "intent"


def test_windows_come_from_config():
    config = default_config()
    config["features"]["windows_days"] = [3, 14]
    names = {s.name for s in feature_specs(None, config)}
    assert {"n_pricing_view_3d", "n_pricing_view_14d"} <= names
    assert "n_pricing_view_7d" not in names


def test_bad_window_is_a_clear_error():
    from leadscore.errors import LeadscoreError

    config = default_config()
    config["features"]["windows_days"] = [7, -1]
    with pytest.raises(LeadscoreError, match="windows_days"):
        feature_specs(None, config)


def test_colliding_attribute_slugs_stay_distinct():
    specs = feature_specs({"Lead Source": ("fit", "categorical"),
                           "lead_source": ("fit", "categorical")}, default_config())
    attrs = [s for s in specs if s.attribute]
    assert len({s.name for s in attrs}) == 2
    assert {s.attribute for s in attrs} == {"Lead Source", "lead_source"}


def test_only_fit_and_intent_attributes_become_features():
    with pytest.raises(ValueError):
        attribute_spec("Tags", "post_outcome", "categorical")
    assert slug("Asymmetrique Activity Index") == "asymmetrique_activity_index"


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("n_pricing_view_7d", 3.0, "Viewed pricing 3 times in the last 7 days"),
        ("n_pricing_view_7d", 1.0, "Viewed pricing once in the last 7 days"),
        ("n_pricing_view_7d", 0.0, "No pricing views in the last 7 days"),
        ("n_demo_request_1d", 2.0, "Requested a demo 2 times in the last day"),
        ("n_webinar_attended_30d", 1.0, "Attended 1 webinar in the last 30 days"),
        ("seniority", "vp", "Title seniority: VP"),
        ("seniority", "c_level", "Title seniority: C-level"),
        ("seniority", "unknown", "Title seniority unknown"),
        ("company_size_band", "201-1000", "Company size: 201-1000 employees"),
        ("free_email", 1.0, "Free e-mail domain"),
        ("free_email", 0.0, "Corporate e-mail domain"),
        ("free_email", float("nan"), "No e-mail domain"),
        ("days_since_high_intent", float("nan"), "No demo request or pricing view yet"),
        ("days_since_high_intent", 2.4, "Last demo request or pricing view 2 days ago"),
        ("days_since_last_activity", 0.2, "Last activity less than a day ago"),
        ("country", "united states", "Country: United States"),
        ("region", "north_america", "Region: North America"),
        ("source", "paid_search", "Source: Paid search"),
        ("source", None, "Source unknown"),
        ("icp_match", 1.0, "Matches the ideal customer profile"),
        ("completeness", 0.5, "Profile 50% complete"),
    ],
)
def test_render_reason(name, value, expected):
    assert render_reason(name, value) == expected


def test_render_reason_uses_the_attribute_column_name():
    spec = attribute_spec("What is your current occupation", "fit", "categorical")
    assert render_reason(spec.name, "Unemployed", spec) == (
        "What is your current occupation: Unemployed"
    )
    assert render_reason(spec.name, "Unemployed", spec.as_dict()) == (
        "What is your current occupation: Unemployed"
    )
    numeric = attribute_spec("TotalVisits", "intent", "numeric")
    assert render_reason(numeric.name, 5.0, numeric) == "TotalVisits: 5"


def test_every_feature_renders_a_plain_sentence():
    specs = feature_specs({"Visits": ("intent", "numeric"), "City": ("fit", "categorical")},
                          default_config())
    for spec in specs:
        samples = ["x", None] if spec.kind == "categorical" else [0.0, 1.0, 2.5, float("nan")]
        for value in samples:
            text = render_reason(spec.name, value, spec)
            assert text and not re.search(r"[{}]", text), (spec.name, value, text)


def test_spec_round_trips_through_dict():
    spec = feature_specs(None, default_config())[0]
    assert FeatureSpec.from_dict(spec.as_dict()) == spec


def test_docs_list_every_fixed_feature():
    doc = (REPO / "docs" / "features.md").read_text()
    for spec in feature_specs(None, default_config()):
        assert f"`{spec.name}`" in doc, spec.name


@pytest.mark.parametrize(("written", "domain"), [
    ("Jane Doe <jane@acme.io>", "acme.io"), ("jane@acme.io (work)", "acme.io"),
    ('"Doe, Jane" <jane@Mail.Example.co.uk>', "mail.example.co.uk"),
    ("mailto:jane@acme.io;", "acme.io"), ("bob@", None), ("Jane.Doe@Acme.COM", "acme.com"),
])
def test_a_mail_clients_address_gives_its_domain_alike_in_ingest_and_scoring(written, domain):
    import duckdb

    from features.ingest_sql import email_domain as sql_domain

    assert fit.email_domain(written) == domain
    with duckdb.connect() as con:
        assert con.execute(f"SELECT {sql_domain('$1')}", [written]).fetchone()[0] == domain
