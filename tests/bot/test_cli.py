"""The `leerloop` command as a user runs it."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.support.processes import clean_env, leerloop_executable


def run(
    args: list[str], cwd: Path, stdin: str = "", **env: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603
        [leerloop_executable(), *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        env=clean_env(**env),
        timeout=60,
        check=False,
    )


def test_org_create_json_prints_a_token_once(tmp_path: Path) -> None:
    result = run(
        ["org", "create", "--name", "Bakkerij Jansen", "--kind", "employer", "--json"], tmp_path
    )
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert isinstance(body["id"], int)
    assert body["token"].startswith("ll_")
    assert body["token"] not in (tmp_path / "var" / "leerloop.db").read_bytes().decode("latin-1")


def test_org_create_refuses_unknown_kind(tmp_path: Path) -> None:
    result = run(["org", "create", "--name", "X", "--kind", "bank"], tmp_path)
    assert result.returncode == 2
    assert "invalid choice" in result.stderr


def test_db_upgrade_creates_the_database(tmp_path: Path) -> None:
    result = run(["db", "upgrade"], tmp_path, DATABASE_URL=f"sqlite:///{tmp_path}/x.db")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "x.db").exists()


def test_chat_answers_start_with_consent_question(tmp_path: Path) -> None:
    result = run(["chat", "--user", "noor"], tmp_path, stdin="/start\n1\n/help\n")
    assert result.returncode == 0, result.stderr
    assert "Hoi! Ik ben Leerloop" in result.stdout
    assert "Vind je dat goed?" in result.stdout
    assert "/privacy" in result.stdout
    assert "noor" not in result.stderr  # no personal data in logs


def test_start_without_token_opens_the_chat_with_a_hint(tmp_path: Path) -> None:
    result = run(["start"], tmp_path, stdin="/start\n")
    assert result.returncode == 0, result.stderr
    assert "TELEGRAM_BOT_TOKEN" in result.stderr
    assert "Hoi! Ik ben Leerloop" in result.stdout


def test_bad_configuration_is_a_clear_error(tmp_path: Path) -> None:
    result = run(["db", "upgrade"], tmp_path, TELEGRAM_WEBHOOK_URL="https://x.example/hook")
    assert result.returncode == 2
    assert "TELEGRAM_WEBHOOK_SECRET is required" in result.stderr


def test_kb_import_search_and_export(tmp_path: Path) -> None:
    org = json.loads(
        run(
            ["org", "create", "--name", "ROC Test", "--kind", "institution", "--json"], tmp_path
        ).stdout
    )
    good = tmp_path / "courses.csv"
    good.write_text(
        "course_id,title,format,location,price_cents,topics\n"
        "t1,Timmeren voor beginners,klassikaal,Zwolle,25000,hout;bouw\n",
        encoding="utf-8",
    )
    imported = run(["kb", "import", str(good), "--org", str(org["id"])], tmp_path)
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.strip() == "imported 1 courses (1 new, 0 updated)"

    found = run(["kb", "search", "timmeren", "--near", "Kampen", "--json"], tmp_path)
    assert found.returncode == 0, found.stderr
    hits = json.loads(found.stdout)["hits"]
    assert [(h["provider"], h["course_id"]) for h in hits] == [("ROC Test", "t1")]

    bad = tmp_path / "bad.csv"
    bad.write_text("course_id,title,price_cents\nt2,Goed,100\nt3,,-4\n", encoding="utf-8")
    refused = run(["kb", "import", str(bad), "--org", str(org["id"])], tmp_path)
    assert refused.returncode == 1
    assert "nothing imported: 2 problem(s)" in refused.stderr
    assert "row 2, title:" in refused.stderr
    assert "row 2, price_cents:" in refused.stderr

    exported = run(["kb", "export", "--org", str(org["id"])], tmp_path)
    assert exported.returncode == 0, exported.stderr
    assert [c["course_id"] for c in json.loads(exported.stdout)] == ["t1"]


def test_kb_search_lists_the_seeded_examples(tmp_path: Path) -> None:
    result = run(["kb", "search", "heftruk"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Heftruckcertificaat" in result.stdout.splitlines()[1]


def test_the_demo_user_has_a_demo_wallet_and_named_users_start_empty(tmp_path: Path) -> None:
    demo = run(["chat"], tmp_path, stdin="/saldo\n")
    assert demo.returncode == 0, demo.stderr
    assert "Dit is een voorbeeld (demo)" in demo.stdout
    assert "Je kunt nu € 1.150 uitgeven" in demo.stdout
    assert "vervalt op" in demo.stdout
    named = run(["chat", "--user", "noor"], tmp_path, stdin="/saldo\n")
    assert "Je leerbudget is nog leeg" in named.stdout
    again = run(["chat"], tmp_path, stdin="/saldo\n")
    assert again.stdout.count("Je kunt nu € 1.150 uitgeven") == 1, "the demo is added once"


def test_portal_link_prints_a_one_time_sign_in_link(tmp_path: Path) -> None:
    made = run(["org", "create", "--name", "ROC Link", "--kind", "institution", "--json"], tmp_path)
    org_id = json.loads(made.stdout)["id"]
    result = run(["portal", "link", "--org", str(org_id), "--json"], tmp_path, HTTP_PORT="8099")
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert body["url"].startswith("http://127.0.0.1:8099/portaal/inloggen?code=pl_")
    assert body["valid_minutes"] == 15
    code = body["url"].split("code=")[1]
    assert code not in (tmp_path / "var" / "leerloop.db").read_bytes().decode("latin-1")
    missing = run(["portal", "link", "--org", "999"], tmp_path)
    assert missing.returncode == 1
    assert "no organisation 999" in missing.stderr


def test_kb_stale_lists_facts_past_their_review_date(tmp_path: Path) -> None:
    fresh = run(["kb", "stale", "--on", "2026-12-02"], tmp_path)
    assert fresh.returncode == 0, fresh.stderr
    assert fresh.stdout.startswith("0 to check again")
    later = run(["kb", "stale", "--on", "2027-02-01", "--json"], tmp_path)
    assert later.returncode == 1, later.stderr
    items = json.loads(later.stdout)
    assert {"slug": "levenlanglerenkrediet", "fact": "rate"} in [
        {"slug": i["slug"], "fact": i["fact"]} for i in items
    ]
    assert all(i["source_url"].startswith("https://") for i in items)
