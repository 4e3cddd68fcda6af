#!/usr/bin/env python3
"""Writes a CSV of N recommendations for timing `casebook import recommendations` (issues 17 and 22).

Five columns a row, as the UN and UPR Info write them: Recommendation (`140.7 <300 characters>`, so a paragraph
number too), Recommending State (two states), Themes (two UN theme names, one holding a comma), Response
(`Supported`, `Noted`, `Partially supported`) and Action (1-5). Deterministic: the same N gives the same file.

    scripts/recommendations-csv.py 10000 > recs-10000.csv
"""
import random
import sys

STATES = [("Maldives", "Portugal"), ("Iran (Islamic Republic of)", "Türkiye"), ("Viet Nam", "Spain"), ("Brazil", "Kenya")]
THEMES = [
    "Prohibition of torture & cruel, inhuman or degrading treatment; Access to justice & remedy",
    "Ratification of & accession to international instruments; Discrimination against women",
    "Economic, social & cultural rights - general measures of implementation; Domestic violence",
]
RESPONSES = ["Supported", "Noted", "Partially supported"]
WORDS = ("ratify the convention ensure that all persons adopt measures to protect human rights defenders "
         "journalists and strengthen the independence of the judiciary guarantee access education health").split()


def text(rng, length):
    words = []
    while sum(len(w) + 1 for w in words) < length:
        words.append(rng.choice(WORDS))
    return " ".join(words)[:length].rstrip()


def quoted(cell):
    return '"' + cell.replace('"', '""') + '"'


def main():
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
    rng = random.Random(7)
    out = sys.stdout
    out.write("Recommendation,Recommending State,Themes,Response,Action\n")
    for index in range(count):
        paragraph = f"{100 + index // 300}.{index % 300 + 1}"
        body = "Ratify " + text(rng, 293)
        states = ", ".join(STATES[index % len(STATES)])
        row = [quoted(f"{paragraph} {body}"), quoted(states), quoted(THEMES[index % len(THEMES)]),
               RESPONSES[index % len(RESPONSES)], str(index % 5 + 1)]
        out.write(",".join(row) + "\n")


if __name__ == "__main__":
    main()
