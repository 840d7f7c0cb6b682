"""The vocabulary of the demo CRM: sources, titles, industries, countries, names and domains.

Pure data. Every category has a canonical key (what the planted model and ``truth`` use, spelled
like ``features.fit`` spells it) and the raw spellings an export shows for it. Weights are relative
and need not sum to one.
"""

from __future__ import annotations

# ---- lead sources -----------------------------------------------------------------------------
# (key, relative volume, raw spellings with weights). The first spelling is the clean one.
SOURCES: tuple[tuple[str, float, tuple[tuple[str, float], ...]], ...] = (
    ("paid_search", 0.22, (("Paid Search", 0.80), ("paid_search", 0.10), ("PAID SEARCH", 0.05),
                           ("Paid search ", 0.05))),
    ("webinar", 0.14, (("Webinar", 0.85), ("webinar", 0.10), (" Webinar", 0.05))),
    ("content_syndication", 0.16, (("Content Syndication", 0.80), ("content_syndication", 0.10),
                                   ("CONTENT SYNDICATION", 0.05), ("Content syndication", 0.05))),
    ("purchased_list", 0.08, (("Purchased List", 0.80), ("purchased_list", 0.10),
                              ("Purchased list ", 0.10))),
    ("referral", 0.06, (("Referral", 0.85), ("referral", 0.10), ("REFERRAL", 0.05))),
    ("event", 0.09, (("Event", 0.85), ("event", 0.10), ("Event ", 0.05))),
    ("organic", 0.25, (("Organic", 0.80), ("organic", 0.10), ("ORGANIC", 0.05),
                       ("Organic ", 0.05))),
)
SOURCE_KEYS = tuple(s[0] for s in SOURCES)

# Per source: mean latent engagement (scales activity counts), demo-request propensity, share of
# free e-mail addresses, and how much more often than average its fields are missing.
SOURCE_PROFILE: dict[str, dict[str, float]] = {
    "paid_search":         {"engagement": 1.0, "demo": 1.3, "free_email": 0.20, "missing": 1.0},
    "webinar":             {"engagement": 1.1, "demo": 0.9, "free_email": 0.24, "missing": 0.8},
    "content_syndication": {"engagement": 0.6, "demo": 0.5, "free_email": 0.10, "missing": 1.5},
    "purchased_list":      {"engagement": 0.3, "demo": 0.3, "free_email": 0.05, "missing": 2.0},
    "referral":            {"engagement": 1.0, "demo": 1.6, "free_email": 0.12, "missing": 0.8},
    "event":               {"engagement": 0.8, "demo": 1.0, "free_email": 0.15, "missing": 1.5},
    "organic":             {"engagement": 1.2, "demo": 1.2, "free_email": 0.28, "missing": 1.0},
}

# ---- seniority and titles ---------------------------------------------------------------------
SENIORITY_KEYS = ("c_level", "vp", "director", "manager", "individual", "student")

# Seniority mix per source, in SENIORITY_KEYS order.
SENIORITY_MIX: dict[str, tuple[float, ...]] = {
    "paid_search":         (0.05, 0.08, 0.15, 0.26, 0.40, 0.06),
    "webinar":             (0.04, 0.07, 0.14, 0.27, 0.42, 0.06),
    "content_syndication": (0.03, 0.05, 0.10, 0.22, 0.50, 0.10),
    "purchased_list":      (0.06, 0.06, 0.10, 0.20, 0.54, 0.04),
    "referral":            (0.10, 0.14, 0.20, 0.26, 0.28, 0.02),
    "event":               (0.08, 0.12, 0.20, 0.26, 0.31, 0.03),
    "organic":             (0.05, 0.07, 0.13, 0.24, 0.43, 0.08),
}

_FUNCTIONS = ("Marketing", "Sales", "Sales Operations", "Revenue Operations", "Demand Generation",
              "IT", "Engineering", "Finance", "Operations", "Human Resources", "Growth")

TITLES: dict[str, tuple[str, ...]] = {
    "c_level": (
        "Chief Marketing Officer", "Chief Revenue Officer", "Chief Information Officer",
        "Chief Technology Officer", "Chief Financial Officer", "Chief Operating Officer",
        "Chief Executive Officer", "CEO", "CMO", "CRO", "CTO", "CFO", "COO", "Founder & CEO",
        "Co-Founder", "Founder", "President", "Owner",
    ),
    "vp": tuple(f"VP of {f}" for f in _FUNCTIONS)
    + tuple(f"Vice President, {f}" for f in _FUNCTIONS[:6])
    + ("SVP Sales", "SVP Marketing", "EVP, Operations", "VP Engineering", "VP Sales"),
    "director": tuple(f"Director of {f}" for f in _FUNCTIONS)
    + tuple(f"Head of {f}" for f in _FUNCTIONS)
    + ("Director, IT", "Senior Director, Marketing", "Sales Director", "Marketing Director",
       "Director of Product Marketing"),
    "manager": tuple(f"{f} Manager" for f in _FUNCTIONS)
    + ("Senior Marketing Manager", "Manager, Demand Generation", "Sales Manager",
       "Engineering Manager", "IT Manager", "Finance Manager", "Sales Team Lead",
       "Marketing Operations Manager", "Regional Sales Manager"),
    "individual": (
        "Marketing Specialist", "Marketing Coordinator", "Content Marketer", "Marketing Analyst",
        "Demand Generation Specialist", "Account Executive", "Sales Development Representative",
        "Business Development Representative", "Sales Operations Analyst", "CRM Administrator",
        "Software Engineer", "Senior Software Engineer", "Data Engineer", "Developer",
        "Systems Administrator", "IT Specialist", "Network Engineer", "Financial Analyst",
        "Accountant", "Operations Analyst", "Recruiter", "HR Generalist", "Consultant",
        "Data Analyst", "Solutions Architect", "Customer Success Specialist",
    ),
    "student": (
        "Student", "Graduate Student", "MBA Student", "PhD Student", "Marketing Intern",
        "Sales Intern", "Software Engineering Intern",
    ),
}

# Raw values a form shows for "no answer" (all in features.contract.PLACEHOLDERS).
TITLE_PLACEHOLDERS = ("N/A", "-", "Select", "Not Provided")
FIELD_PLACEHOLDERS = ("Select", "N/A")

# ---- company size -----------------------------------------------------------------------------
# (band key, share of companies, smallest and largest head count)
SIZE_BANDS: tuple[tuple[str, float, int, int], ...] = (
    ("1-10", 0.12, 1, 10),
    ("11-50", 0.22, 11, 50),
    ("51-200", 0.26, 51, 200),
    ("201-1000", 0.20, 201, 1000),
    ("1001-5000", 0.12, 1001, 5000),
    ("5001+", 0.08, 5001, 120_000),
)
SIZE_BAND_KEYS = tuple(b[0] for b in SIZE_BANDS)
# How a band is written on forms: clean, spaced, with a unit. "5001+" forms say "5000+".
SIZE_BAND_SPELLINGS: dict[str, tuple[str, ...]] = {
    "1-10": ("1-10", "1 - 10", "1-10 employees"),
    "11-50": ("11-50", "11 - 50", "11-50 employees"),
    "51-200": ("51-200", "51 - 200", "51-200 employees"),
    "201-1000": ("201-1000", "201 - 1000", "201-1,000 employees"),
    "1001-5000": ("1001-5000", "1,001 - 5,000", "1001-5000 employees"),
    "5001+": ("5000+", "5,000+", "5000+ employees"),
}

# ---- industries -------------------------------------------------------------------------------
# (display name, share of companies). The key is the display name in lower case.
INDUSTRIES: tuple[tuple[str, float], ...] = (
    ("Software", 0.16),
    ("Financial Services", 0.11),
    ("Healthcare", 0.09),
    ("Manufacturing", 0.10),
    ("Retail", 0.08),
    ("Media", 0.05),
    ("Logistics", 0.05),
    ("Professional Services", 0.08),
    ("Telecommunications", 0.04),
    ("Energy", 0.03),
    ("Real Estate", 0.03),
    ("Education", 0.06),
    ("Government", 0.04),
    ("Non-Profit", 0.03),
    ("Other", 0.05),
)
LATE_INDUSTRY = "Climate Tech"  # only companies of leads created in the later part of the window

# ---- countries --------------------------------------------------------------------------------
# (canonical key as features.fit spells it, region, share, raw spellings with weights)
COUNTRIES: tuple[tuple[str, str, float, tuple[tuple[str, float], ...]], ...] = (
    ("united states", "north_america", 0.38,
     (("United States", 0.45), ("US", 0.20), ("USA", 0.20), ("united states", 0.05),
      ("U.S.", 0.05), ("United States of America", 0.05))),
    ("canada", "north_america", 0.05, (("Canada", 0.9), ("canada", 0.1))),
    ("united kingdom", "europe", 0.10,
     (("United Kingdom", 0.50), ("UK", 0.30), ("united kingdom", 0.10), ("Great Britain", 0.05),
      ("GB", 0.05))),
    ("germany", "europe", 0.06, (("Germany", 0.80), ("DE", 0.10), ("Deutschland", 0.10))),
    ("france", "europe", 0.04, (("France", 0.9), ("FR", 0.1))),
    ("netherlands", "europe", 0.03, (("Netherlands", 0.7), ("The Netherlands", 0.2), ("NL", 0.1))),
    ("spain", "europe", 0.02, (("Spain", 1.0),)),
    ("sweden", "europe", 0.02, (("Sweden", 1.0),)),
    ("india", "apac", 0.08, (("India", 0.9), ("IN", 0.05), ("india", 0.05))),
    ("singapore", "apac", 0.02, (("Singapore", 1.0),)),
    ("australia", "apac", 0.04, (("Australia", 0.85), ("AU", 0.15))),
    ("japan", "apac", 0.02, (("Japan", 1.0),)),
    ("brazil", "latam", 0.04, (("Brazil", 0.8), ("Brasil", 0.2))),
    ("mexico", "latam", 0.02, (("Mexico", 1.0),)),
    ("nigeria", "mea", 0.02, (("Nigeria", 1.0),)),
    ("south africa", "mea", 0.02, (("South Africa", 1.0),)),
    ("united arab emirates", "mea", 0.02, (("United Arab Emirates", 0.6), ("UAE", 0.4))),
)

# ---- people and e-mail ------------------------------------------------------------------------
FIRST_NAMES = (
    "James", "Maria", "Wei", "Aisha", "Carlos", "Priya", "John", "Fatima", "Lukas", "Sofia",
    "Kenji", "Amara", "David", "Elena", "Mohammed", "Chloe", "Raj", "Olivia", "Mateo", "Hannah",
    "Kwame", "Yuki", "Daniel", "Isabel", "Arjun", "Emma", "Omar", "Grace", "Thomas", "Lina",
    "Michael", "Ana", "Chen", "Zara", "Pedro", "Nina", "Samuel", "Mei", "Ahmed", "Laura",
    "Kevin", "Ngozi", "Felix", "Ines", "Rahul", "Sarah", "Diego", "Anja", "Tunde", "Julia",
    "Kim", "Lars", "Aditi", "Marco", "Leah", "Hiroshi", "Camila", "Ethan", "Noor", "Paul",
)
LAST_NAMES = (
    "Nguyen", "Smith", "Garcia", "Mueller", "Patel", "Okafor", "Kim", "Rossi", "Johnson", "Silva",
    "Tanaka", "Brown", "Singh", "Martin", "Wang", "Dubois", "Khan", "Lopez", "Schmidt", "Williams",
    "Adeyemi", "Jones", "Chen", "Fernandez", "Kowalski", "Andersson", "Sato", "Taylor", "Ali",
    "Moreau", "Davis", "Gupta", "Li", "Hernandez", "Novak", "Murphy", "Costa", "Wilson", "Ibrahim",
    "Jansen", "Clark", "Yamamoto", "Rodriguez", "Schulz", "Mensah", "Walker", "Sharma", "Lee",
    "Petrov", "Evans", "Zhang", "Romero", "Fischer", "Hall", "Reddy", "Nakamura", "Bakker",
    "Young", "Oliveira", "Weber",
)
FREE_EMAIL_DOMAINS: tuple[tuple[str, float], ...] = (
    ("gmail.com", 0.55), ("yahoo.com", 0.12), ("outlook.com", 0.10), ("hotmail.com", 0.10),
    ("icloud.com", 0.05), ("aol.com", 0.02), ("proton.me", 0.02), ("gmx.de", 0.02),
    ("yahoo.co.uk", 0.02),
)
# Company domains are built as prefix + suffix + top-level domain ("brightlane.io").
DOMAIN_PREFIXES = (
    "bright", "blue", "north", "clear", "swift", "green", "silver", "iron", "cloud", "data",
    "peak", "true", "open", "quantum", "rapid", "summit", "stellar", "nova", "apex", "vertex",
    "harbor", "cedar", "maple", "river", "stone", "sun", "moon", "star", "ever", "prime",
    "bold", "core", "deep", "first", "high", "key", "next", "pure", "smart", "west",
    "east", "south", "gold", "red", "urban", "polar", "fox", "lumen", "aero", "terra",
)
DOMAIN_SUFFIXES = (
    "lane", "path", "works", "labs", "logic", "point", "wave", "bridge", "field", "forge",
    "stack", "scale", "sight", "grid", "line", "hub", "loop", "ward", "mark", "gate",
    "ridge", "dale", "shift", "spring", "craft", "base", "port", "tech", "flow", "wise",
)
DOMAIN_TLDS: tuple[tuple[str, float], ...] = (
    ("com", 0.55), ("io", 0.15), ("co", 0.08), ("net", 0.06), ("de", 0.05), ("co.uk", 0.05),
    ("ai", 0.04), ("fr", 0.02),
)

# ---- campaigns --------------------------------------------------------------------------------
# Always-on or launched-later campaigns: (source, name, launch as a fraction of the window).
# Webinars (one per month) and purchased lists (one per quarter) are named from the calendar.
STANDING_CAMPAIGNS: tuple[tuple[str, str, float], ...] = (
    ("paid_search", "PS | Brand | Global", 0.0),
    ("paid_search", "PS | Competitor Terms", 0.0),
    ("paid_search", "PS | Lead Scoring Keywords", 0.0),
    ("paid_search", "PS | RevOps Keywords", 0.45),
    ("paid_search", "PS | AI Forecasting", 0.70),
    ("content_syndication", "CS | TechTarget | State of RevOps Report", 0.0),
    ("content_syndication", "CS | G2 | Buyer Guide", 0.0),
    ("content_syndication", "CS | Integrate | Forecasting eBook", 0.50),
    ("content_syndication", "CS | NetLine | AI in Sales Playbook", 0.75),
    ("referral", "Customer Referral", 0.0),
    ("referral", "Partner Referral", 0.0),
    ("referral", "Partner Referral | Agency Program", 0.60),
    ("event", "Event | Regional Roadshow", 0.0),
    ("event", "Event | SaaStr Annual", 0.35),
    ("event", "Event | Dreamforce", 0.80),
    ("organic", "Website | Contact Us", 0.0),
    ("organic", "Blog Newsletter", 0.0),
    ("organic", "Website | ROI Calculator", 0.55),
)
WEBINAR_TOPICS = (
    "Pipeline Reviews That Work", "Lead Scoring 101", "Forecasting Without Spreadsheets",
    "Sales and Marketing Alignment", "Speed to Lead", "Attribution for B2B",
    "Building an SDR Playbook", "RevOps Metrics That Matter", "Intent Data in Practice",
    "Closing the Feedback Loop", "Territory Planning", "AI for Revenue Teams",
)
LIST_VENDORS = ("ZoomInfo", "Apollo", "Cognism")
# Share of organic / referral leads that carry no campaign at all.
CAMPAIGN_MISSING = {"organic": 0.55, "referral": 0.30}
