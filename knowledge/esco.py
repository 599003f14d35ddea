"""Build the taxonomy files in `knowledge/data/` from the ESCO CSV export (Dutch labels).

    python -m knowledge.esco ../shared/data/esco

ESCO — European Skills, Competences, Qualifications and Occupations, © European Commission,
reused with attribution (https://esco.ec.europa.eu). The files keep what the knowledge base
needs: the skills hierarchy (levels 0–3), ISCO groups, and occupations with a short description.
"""

from __future__ import annotations

import argparse
import csv
import re
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"
SKILLS_FILE = DATA_DIR / "esco_skills.csv"
ISCO_FILE = DATA_DIR / "isco_groups.csv"
OCCUPATIONS_FILE = DATA_DIR / "esco_occupations.csv"
_MAX_DESCRIPTION = 300


def _labels(raw: str) -> list[str]:
    return [label.strip() for label in raw.splitlines() if label.strip()]


def _short(text: str) -> str:
    """The first sentence of a description, at most a few hundred characters."""
    text = " ".join(text.split())
    first = re.split(r"(?<=[.!?])\s", text, maxsplit=1)[0]
    return first[:_MAX_DESCRIPTION]


def build(esco_dir: Path) -> tuple[int, int, int]:
    """Write the three files; return (skills, ISCO groups, occupations) written."""
    skills: dict[str, tuple[str, str, int, str, str]] = {}
    with (esco_dir / "skillsHierarchy_nl.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            parent = ""
            for level in range(4):
                uri = row[f"Level {level} URI"].strip()
                if not uri:
                    break
                if uri not in skills:
                    deepest = level == 3 or not row.get(f"Level {level + 1} URI", "").strip()
                    description = _short(row["Description"]) if deepest else ""
                    skills[uri] = (
                        row[f"Level {level} code"].strip(),
                        row[f"Level {level} preferred term"].strip(),
                        level,
                        parent,
                        description,
                    )
                parent = uri
    with SKILLS_FILE.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["uri", "code", "label", "level", "parent_uri", "description"])
        for uri, (code, label, level, parent, description) in sorted(
            skills.items(), key=lambda item: (item[1][0], item[0])
        ):
            writer.writerow([uri, code, label, level, parent, description])

    with (esco_dir / "ISCOGroups_nl.csv").open(encoding="utf-8") as f:
        groups = sorted((r["code"].strip(), r["preferredLabel"].strip()) for r in csv.DictReader(f))
    with ISCO_FILE.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["code", "label"])
        writer.writerows(groups)

    with (esco_dir / "occupations_nl.csv").open(encoding="utf-8") as f:
        occupations = sorted(csv.DictReader(f), key=lambda r: r["conceptUri"])
    with OCCUPATIONS_FILE.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["uri", "isco_code", "label", "alt_labels", "description"])
        for row in occupations:
            alts = [a for a in _labels(row["altLabels"]) if a != row["preferredLabel"]]
            writer.writerow(
                [
                    row["conceptUri"],
                    row["iscoGroup"],
                    row["preferredLabel"],
                    "|".join(alts),
                    _short(row["description"]),
                ]
            )
    return len(skills), len(groups), len(occupations)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("esco_dir", type=Path)
    args = parser.parse_args()
    skills, groups, occupations = build(args.esco_dir)
    print(f"{skills} skill groups, {groups} ISCO groups, {occupations} occupations")


if __name__ == "__main__":
    main()
