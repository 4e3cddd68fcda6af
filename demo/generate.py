#!/usr/bin/env python3
"""Writes the Casebook demo dataset (CSV files in this folder).

ILLUSTRATIVE DATA. It is drawn from the facts in shared/seed/upr-kazakhstan-2025.txt (Human
Rights Watch, 23 January 2025): the review's figures (294 recommendations from 103 states;
214 recommendations accepted in 2019, of which the state claimed 195 implemented and 19
ongoing), the recommendations the article quotes or describes, and the incidents it reports.
Wording beyond what the article quotes, paragraph numbers, dates of incidents and the
recommendations it does not describe are placeholders made up for the demo, labelled as such.
Run it again to regenerate the files; the output is deterministic.
"""
import csv
import hashlib
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))
random.seed(2025)


def rid(name):
    """A fixed record id (32 hex digits) for a demo record, so files can refer to each other."""
    return hashlib.sha256(("casebook-demo:" + name).encode()).hexdigest()[:32]


STATES = [
    "Norway", "Australia", "United Kingdom", "Germany", "France", "Netherlands", "Canada", "Sweden",
    "Finland", "Denmark", "Iceland", "Ireland", "Belgium", "Luxembourg", "Austria", "Switzerland",
    "Spain", "Portugal", "Italy", "Greece", "Cyprus", "Malta", "Slovenia", "Croatia", "Czechia",
    "Slovakia", "Poland", "Lithuania", "Latvia", "Estonia", "Hungary", "Romania", "Bulgaria",
    "Ukraine", "Republic of Moldova", "Georgia", "Armenia", "Azerbaijan", "Türkiye", "Uzbekistan",
    "Kyrgyzstan", "Tajikistan", "Turkmenistan", "Russian Federation", "Belarus", "China", "Japan",
    "Republic of Korea", "Mongolia", "India", "Pakistan", "Bangladesh", "Sri Lanka", "Nepal",
    "Maldives", "Thailand", "Viet Nam", "Indonesia", "Malaysia", "Philippines", "Singapore",
    "Cambodia", "Lao People's Democratic Republic", "New Zealand", "Fiji", "United States of America",
    "Mexico", "Brazil", "Argentina", "Chile", "Uruguay", "Paraguay", "Peru", "Ecuador", "Colombia",
    "Venezuela (Bolivarian Republic of)", "Cuba", "Costa Rica", "Panama", "Dominican Republic",
    "Egypt", "Morocco", "Algeria", "Tunisia", "Libya", "Sudan", "Ethiopia", "Kenya", "Nigeria",
    "Ghana", "Senegal", "South Africa", "Angola", "Botswana", "Namibia", "Côte d'Ivoire", "Iraq",
    "Iran (Islamic Republic of)", "Saudi Arabia", "United Arab Emirates", "Qatar", "Oman", "Jordan",
]
assert len(STATES) == 103 and len(set(STATES)) == 103

PLACEHOLDER = "[illustrative placeholder: not the wording of the UPR report] "

# The recommendations the article quotes or describes (2025, fourth cycle), with their themes.
DESCRIBED = [
    (["Norway", "Australia"], "Investigate human rights abuses committed during the January 2022 protests, including the use of excessive force against peaceful protesters, and hold those responsible to account.",
     ["justice_and_impunity", "freedom_of_association_and_assembly", "torture_and_ill_treatment"], "5"),
    (["United Kingdom"], "Revise the definition of extremism in national legislation and remove those convicted of nonviolent crimes from the Financing Terrorism List.",
     ["counter_extremism_and_terrorism", "freedom_of_expression_and_media"], "5"),
    (["Germany"], PLACEHOLDER + "Investigate allegations of torture and other ill-treatment and hold those responsible accountable, with a view to ending impunity.",
     ["torture_and_ill_treatment", "justice_and_impunity"], "4"),
    (["Netherlands"], PLACEHOLDER + "Uphold media freedom and guarantee the protection of media workers, bloggers and journalists.",
     ["freedom_of_expression_and_media", "human_rights_defenders"], "4"),
    (["Canada"], PLACEHOLDER + "Protect the rights of LGBT people and prohibit discrimination based on sexual orientation and gender identity.",
     ["sexual_orientation_and_gender_identity"], "4"),
    (["Iceland"], PLACEHOLDER + "Refrain from adopting legislation on so-called LGBT propaganda.",
     ["sexual_orientation_and_gender_identity", "freedom_of_expression_and_media"], "5"),
    (["Spain"], PLACEHOLDER + "Guarantee inclusive education for children with disabilities.",
     ["disability_rights", "childrens_rights"], "4"),
    (["Egypt"], PLACEHOLDER + "Continue efforts to reduce poverty rates and strengthen the social security system.",
     ["poverty_and_social_security"], "2"),
    (["France"], PLACEHOLDER + "Bring the law on peaceful assemblies into line with international standards on freedom of assembly.",
     ["freedom_of_association_and_assembly"], "5"),
    (["Sweden"], PLACEHOLDER + "Prevent and combat gender-based violence, including domestic violence, and ensure victims' access to justice.",
     ["gender_based_violence", "womens_rights"], "4"),
]
THEMES = [
    "freedom_of_association_and_assembly", "freedom_of_expression_and_media", "justice_and_impunity",
    "gender_based_violence", "sexual_orientation_and_gender_identity", "disability_rights",
    "torture_and_ill_treatment", "counter_extremism_and_terrorism", "poverty_and_social_security",
    "death_penalty", "human_rights_defenders", "detention_conditions", "womens_rights", "childrens_rights",
    "labour_rights", "migrants_and_refugees", "international_instruments", "national_human_rights_institution",
]


def write(name, header, rows):
    with open(os.path.join(HERE, name), "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)


review4, review3 = rid("review-2025"), rid("review-2019")
write("reviews.csv", ["id", "state", "cycle", "date", "response_deadline", "session", "notes"], [
    [review4, "Kazakhstan", 4, "2025-01-23", "2025-07-07", "48",
     "Illustrative demo record. Fourth-cycle review of 23 January 2025: 294 recommendations from 103 states (HRW, 23 January 2025). Deadline: the Human Rights Council session of July 2025."],
    [review3, "Kazakhstan", 3, "2019-11-07", "2020-03-13", "34",
     "Illustrative demo record. Third-cycle review; the state accepted 214 recommendations and in 2025 claimed 195 implemented, 19 ongoing."],
])

# 2025: 294 recommendations from exactly 103 states. Each state makes at least one.
rows4 = []
used = []
for states, text, themes, action in DESCRIBED:
    used.append(states)
remaining = [s for s in STATES if not any(s in u for u in used)]
senders = list(used) + [[s] for s in remaining]
while len(senders) < 294:
    senders.append([random.choice(STATES)])
for n, states in enumerate(senders, start=1):
    if n <= len(DESCRIBED):
        _, text, themes, action = DESCRIBED[n - 1]
    else:
        themes = sorted(random.sample(THEMES, random.choice([1, 1, 2])))
        text = PLACEHOLDER + f"Recommendation {n} of the fourth cycle, on {themes[0].replace('_', ' ')}."
        action = random.choice(["2", "3", "4", "4", "5"])
    rows4.append([rid(f"rec-2025-{n}"), review4, f"illustrative-{n}", text, ",".join(states), ",".join(themes),
                  "pending", "not_assessed", action, 4])
assert len({s for r in rows4 for s in r[4].split(",")}) == 103

# 2019: the 214 recommendations the state accepted (supported) at its third review.
rows3 = []
for n in range(1, 215):
    themes = sorted(random.sample(THEMES, random.choice([1, 2])))
    rows3.append([rid(f"rec-2019-{n}"), review3, f"illustrative-{n}",
                  PLACEHOLDER + f"Accepted recommendation {n} of the third cycle, on {themes[0].replace('_', ' ')}.",
                  random.choice(STATES), ",".join(themes), "supported", "not_assessed", random.choice(["3", "4", "5"]), 3])
header = ["id", "review", "paragraph", "text", "recommending_state", "themes", "response", "status", "action_category", "cycle"]
write("recommendations.csv", header, rows4 + rows3)

# The state's claims in its 2024 national report: 195 implemented, 19 ongoing.
assessments = []
ongoing = set(random.sample(range(1, 215), 19))
for n in range(1, 215):
    assessments.append([rid(f"claim-2019-{n}"), rid(f"rec-2019-{n}"), "state", "Government of Kazakhstan (national report)",
                        "2024-10-25", "ongoing" if n in ongoing else "implemented",
                        "Illustrative demo record: the state's claim as summarised by HRW (195 implemented, 19 ongoing).", ""])
# A few NGO findings that dispute the claims (illustrative).
source = rid("source-hrw-2025")
disputed = [n for n in range(1, 215) if n not in ongoing][:6]
for n in disputed:
    assessments.append([rid(f"finding-2019-{n}"), rid(f"rec-2019-{n}"), "ngo", "Human Rights Watch", "2025-01-23", "not_implemented",
                        "Illustrative demo record: HRW reports the state failed to act on recommendations on expression, association, assembly and LGBT rights.",
                        source])
write("assessments.csv", ["id", "recommendation", "assessor_type", "assessor", "date", "status", "narrative", "evidence"], assessments)

write("sources.csv", ["id", "title", "kind", "reliability", "date", "url"], [
    [source, "Kazakhstan Urged to Act on UN Rights Recommendations (Human Rights Watch)", "ngo_report", "confirmed", "2025-01-23", ""],
    [rid("source-hrw-2024"), "HRW briefing on Kazakhstan for the UPR (July 2024)", "ngo_report", "confirmed", "2024-07-01", ""],
])

write("incidents.csv", ["id", "title", "date", "date_precision", "location", "description", "themes", "violation_status", "recommendations", "sources"], [
    [rid("incident-journalist-2025"), "Journalist and founder of a satirical news site arrested on extremism charges", "2025-01-01", "month", "Kazakhstan",
     "Illustrative demo record. Days before the review, authorities arrested a journalist who founded a satirical news site, on arbitrary extremism charges carrying up to 7 years in prison. (Exact date is a placeholder.)",
     "freedom_of_expression_and_media,counter_extremism_and_terrorism", "documented", ",".join([rid("rec-2025-2"), rid("rec-2025-4")]), source],
    [rid("incident-january-2022"), "Excessive force against protesters during the January 2022 events", "2022-01-01", "month", "Almaty",
     "Illustrative demo record. Law enforcement used excessive force, including against peaceful protesters, during the January 2022 protests; the internet was cut nationwide.",
     "freedom_of_association_and_assembly,torture_and_ill_treatment,justice_and_impunity", "documented", rid("rec-2025-1"), source],
    [rid("incident-ftl"), "Activists placed on the Financing Terrorism List", "2024-01-01", "year", "Kazakhstan",
     "Illustrative demo record. People convicted of nonviolent offences placed on the Financing Terrorism List face unjustified financial restrictions.",
     "counter_extremism_and_terrorism", "documented", rid("rec-2025-2"), source],
    [rid("incident-lgbt"), "Harassment and threats against LGBT people", "2024-01-01", "year", "Kazakhstan",
     "Illustrative demo record. LGBT people face everyday harassment, discrimination and the threat of violence, while calls for anti-LGBT propaganda legislation persist.",
     "sexual_orientation_and_gender_identity", "alleged", ",".join([rid("rec-2025-5"), rid("rec-2025-6")]), source],
])
print("wrote reviews.csv, recommendations.csv, assessments.csv, sources.csv, incidents.csv")
