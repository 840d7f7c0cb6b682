"""Made-up CRM exports in shapes no shipped data set has, with their mappings: a flat one-file
export (v1) and a several-file one (v2: semicolons, day-first dates, a lookup, an activity log and
a won-deals file). A planted signal (plan, source, visits; sector, demo requests) decides who
converts, so a review trained on them learns something.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

FLAT_MAPPING = """\
name: tiny-crm
version: 1
columns:
  Lead No: id
  Created: {role: timestamp, as: created_at}
  Source: {role: fit, kind: categorical, as: source}
  Plan: {role: fit, kind: categorical}
  Visits: {role: intent, kind: numeric}
  Email: {role: fit, kind: categorical, as: email}
  Contact Name: ignore
  Call Summary: {role: post_outcome}
  Status: {role: outcome, after_days: 2, values: {Won: closed_won, Lost: none}}
"""
VERDICT_COLUMNS = ["Call Summary", "Status"]
"""What a file of new leads from this CRM lacks."""
NAMES = ("Ann Lee", "Raj Patel", "Mia Wong", "Tom Berg")

V2_MAPPING = """\
leadscore_mapping: 2
name: tiny-crm-v2
version: 1
options: {delimiter: ";", missing: ["", "n/a"]}
files:
  leads:
    path: leads.csv
    kind: main
    columns:
      Ref: id
      Opened: {role: timestamp, as: created_at, day_first: true}
      Channel: {role: fit, kind: categorical, as: source, replace: {Web: web}}
      Company: ignore
      Owner: ignore
      Stage: {role: disposition_reason, date: Closed, values: {Lost: {status: rejected,
              reason_code: not_interested}}}
      Closed: {role: ignore, day_first: true}
  companies:
    path: companies.csv
    kind: lookup
    key: Company
    joins: Company
    columns:
      Company: key
      Sector: {role: fit, kind: categorical, as: industry}
      Staff: {role: fit, kind: numeric}
  events:
    path: events.csv
    kind: activities
    key: Lead Ref
    columns:
      Lead Ref: key
      At: {as: occurred_at, day_first: true}
      What: {as: activity_type}
  won:
    path: won.csv
    kind: outcomes
    key: Lead Ref
    stage: closed_won
    columns:
      Lead Ref: key
      Won On: {as: occurred_at, day_first: true}
"""
V2_VERDICT_FILES = ("won.csv",)
SECTORS = ("Software", "Retail", "Health", "Energy")


def flat_export(n: int, seed: int, start: str = "2026-01-05", days: int = 300) -> pd.DataFrame:
    """``n`` leads created evenly over ``days`` from ``start``; leads of the last 20 days are
    undecided (blank Status), as a live CRM's newest leads are."""
    rng = np.random.default_rng(seed)
    first = datetime.fromisoformat(start)
    created = [first + timedelta(days=days * i / n, hours=int(rng.integers(8, 18)))
               for i in range(n)]
    source = rng.choice(["webinar", "paid_search", "organic", "referral"], n)
    plan = rng.choice(["Pro", "Team", "Basic", ""], n)
    visits = rng.integers(0, 15, n)
    logit = (-1.6 + 1.2 * (plan == "Pro") + 0.6 * (plan == "Team") + 0.8 * (source == "referral")
             + 0.12 * visits)
    won = rng.random(n) < 1 / (1 + np.exp(-logit))
    last = first + timedelta(days=days)
    undecided = np.array([c > last - timedelta(days=20) for c in created])
    domains = rng.choice(["acme.io", "gmail.com", "globex.com"], n)
    return pd.DataFrame({
        "Lead No": [str(7000 + i) for i in range(n)],
        "Created": [c.isoformat() for c in created],
        "Source": source, "Plan": plan, "Visits": visits.astype(str),
        "Email": [f"person{i}@{d}" for i, d in enumerate(domains)],
        "Contact Name": rng.choice(NAMES, n),
        "Call Summary": rng.choice(["called twice", "left a voicemail", ""], n),
        "Status": np.where(undecided, "", np.where(won, "Won", "Lost")),
    })


def _day_first(at: datetime) -> str:
    return at.strftime("%d.%m.%Y %H:%M")


def v2_export(folder: Path, n: int, seed: int, start: str = "2026-01-05",
              days: int = 300, strangers: int = 0) -> Path:
    """Write the v2 export's four files into ``folder``; ``strangers`` activity rows belong to
    leads the export does not hold (an activity log exported whole)."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    first = datetime.fromisoformat(start)
    companies = [f"Co{i:03d}" for i in range(40)]
    sector_of = {c: SECTORS[i % len(SECTORS)] for i, c in enumerate(companies)}
    pd.DataFrame({"Company": companies, "Sector": [sector_of[c] for c in companies],
                  "Staff": [str(10 * (i + 1)) for i in range(len(companies))]}
                 ).to_csv(folder / "companies.csv", sep=";", index=False)
    leads, events, won = [], [], []
    last = first + timedelta(days=days)
    for i in range(n):
        opened = first + timedelta(days=days * i / n, hours=int(rng.integers(8, 18)))
        company = str(rng.choice(companies))
        demos = int(rng.integers(0, 4))
        for k in range(demos + int(rng.integers(0, 3))):
            what = "demo_request" if k < demos else "page_view"
            at = opened - timedelta(days=float(rng.uniform(0, 20)))
            events.append({"Lead Ref": f"L-{i}", "At": _day_first(at), "What": what})
        logit = -1.5 + 0.7 * demos + 0.9 * (sector_of[company] == "Software")
        converted = rng.random() < 1 / (1 + np.exp(-logit)) and opened < last - timedelta(days=20)
        lost = not converted and opened < last - timedelta(days=20) and rng.random() < 0.3
        if converted:
            won.append({"Lead Ref": f"L-{i}", "Won On": _day_first(opened + timedelta(days=3))})
        leads.append({"Ref": f"L-{i}", "Opened": _day_first(opened),
                      "Channel": str(rng.choice(["Web", "event", "partner", "n/a"])),
                      "Company": company, "Owner": str(rng.choice(NAMES)),
                      "Stage": "Lost" if lost else "",
                      "Closed": _day_first(opened + timedelta(days=5)) if lost else ""})
    for k in range(strangers):
        events.append({"Lead Ref": f"X-{k}", "At": _day_first(first), "What": "page_view"})
    pd.DataFrame(leads).to_csv(folder / "leads.csv", sep=";", index=False)
    pd.DataFrame(events).to_csv(folder / "events.csv", sep=";", index=False)
    pd.DataFrame(won, columns=["Lead Ref", "Won On"]).to_csv(folder / "won.csv", sep=";",
                                                              index=False)
    return folder
