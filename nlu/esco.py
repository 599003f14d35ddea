"""Build the ESCO lookup files in `nlu/data/` from the ESCO CSV export (Dutch labels).

    python -m nlu.esco ../shared/data/esco

ESCO — European Skills, Competences, Qualifications and Occupations, © European Commission,
reused with attribution (https://esco.ec.europa.eu).
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"
OCCUPATIONS_FILE = DATA_DIR / "esco_occupations.csv"
SKILL_GROUPS_FILE = DATA_DIR / "esco_skill_groups.csv"
_SKILL_ROOTS = ("vaardigheden", "transversale vaardigheden en competenties")


def _labels(raw: str) -> list[str]:
    return [label.strip() for label in raw.splitlines() if label.strip()]


def build(esco_dir: Path) -> tuple[int, int]:
    """Write the two lookup files; return (occupations, skill groups) written."""
    with (esco_dir / "occupations_nl.csv").open(encoding="utf-8") as f:
        occupations = sorted(csv.DictReader(f), key=lambda r: r["conceptUri"])
    with OCCUPATIONS_FILE.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["uri", "isco_group", "label", "alt_labels"])
        for row in occupations:
            alts = [a for a in _labels(row["altLabels"]) if a != row["preferredLabel"]]
            writer.writerow(
                [row["conceptUri"], row["iscoGroup"], row["preferredLabel"], "|".join(alts)]
            )

    groups: dict[str, tuple[str, str, str]] = {}
    with (esco_dir / "skillsHierarchy_nl.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["Level 0 preferred term"] not in _SKILL_ROOTS:
                continue
            for level in ("1", "2"):
                uri, label = row[f"Level {level} URI"], row[f"Level {level} preferred term"]
                if uri and label:
                    groups[uri] = (level, label, row["Level 1 preferred term"])
    with SKILL_GROUPS_FILE.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["uri", "level", "label", "level1_label"])
        for uri, (level, label, parent) in sorted(groups.items(), key=lambda i: (i[1][0], i[0])):
            writer.writerow([uri, level, label, parent])
    return len(occupations), len(groups)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("esco_dir", type=Path)
    args = parser.parse_args()
    occupations, groups = build(args.esco_dir)
    print(f"wrote {occupations} occupations and {groups} skill groups to {DATA_DIR}")


if __name__ == "__main__":
    main()
