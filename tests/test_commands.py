"""show, similar, stats, date filters and sorting: the library call first,
then the command that wraps it (llm's test layout)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import searchkit
from searchkit.terminal.cli import cli


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


# similar


def test_similar_excludes_the_paper_and_shares_key_terms(default_index: searchkit.Index) -> None:
    results = default_index.similar("2510.00515", limit=5)
    assert 0 < len(results) <= 5
    assert "2510.00515" not in [h.arxiv_id for h in results]
    assert len({h.arxiv_id for h in results}) == len(results), "a paper appears twice"
    assert all(h.shared_terms for h in results)
    scores = [h.score for h in results]
    assert scores == sorted(scores, reverse=True)


def test_similar_unknown_id_is_not_found(default_index: searchkit.Index) -> None:
    with pytest.raises(searchkit.NotFoundError):
        default_index.similar("2999.99999")


def test_similar_command(default_index_dir: Path) -> None:
    result = invoke("similar", "2510.00515", "--index", str(default_index_dir), "--limit", "3", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert len(data["hits"]) == 3 and all(h["shared_terms"] for h in data["hits"])
    text = invoke("similar", "2510.00515", "--index", str(default_index_dir), "--limit", "2", "--no-pager")
    assert text.exit_code == 0 and "shared:" in text.stdout
    missing = invoke("similar", "2999.99999", "--index", str(default_index_dir))
    assert missing.exit_code == 1 and "2999.99999" in missing.output and "Traceback" not in missing.output


# stats


def test_stats_counts_the_index(default_index: searchkit.Index) -> None:
    stats = default_index.stats()
    assert (stats.posts, stats.entries, stats.papers) == (5, 46, 46)
    assert (stats.first_date, stats.last_date) == ("2025-10-06", "2025-10-28")
    assert stats.size_bytes > 0 and stats.analyzer and stats.kiwi
    assert set(stats.top_terms) == set(searchkit.TEXT_FIELDS)
    assert all(len(term) > 1 for terms in stats.top_terms.values() for term, _ in terms)


def test_stats_command(default_index_dir: Path) -> None:
    data = json.loads(invoke("stats", "--index", str(default_index_dir), "--json").stdout)
    assert data["papers"] == 46 and data["first_date"] == "2025-10-06"
    assert data["top_terms"]["goal"][0]["count"] > 0
    text = invoke("stats", "--index", str(default_index_dir))
    assert text.exit_code == 0 and "46 distinct arXiv ids" in text.stdout


# dates and sorting


def test_since_and_until_filter_by_post_date(default_index: searchkit.Index) -> None:
    results = default_index.search("모델", limit=50, since="2025-10-08", until="2025-10-09")
    assert results and all("2025-10-08" <= max(h.dates) <= "2025-10-09" for h in results)
    assert results.total == len({h.arxiv_id for h in results})


def test_sort_by_date_puts_the_newest_first(default_index: searchkit.Index) -> None:
    results = default_index.search("모델", limit=20, sort="date")
    dates = [h.dates[-1] for h in results]
    assert dates == sorted(dates, reverse=True)


@pytest.mark.parametrize("value", ["2025-13-40", "", "2025-W40", "2025-273", "2025-1006", "202510-06"])
@pytest.mark.parametrize("option", ["--since", "--until"])
@pytest.mark.parametrize("command", ["query", "trend"])
def test_bad_date_is_exit_2(default_index_dir: Path, command: str, option: str, value: str) -> None:
    """An empty date is "$FROM" with FROM unset, not "no date"; week,
    ordinal and half-compact dates are refused, as the page refuses them
    (trend read 2025-1006 again itself, and ended in a traceback)."""
    result = invoke(command, "모델", "--index", str(default_index_dir), option, value)
    assert result.exit_code == 2
    assert f"date '{value}' is not an ISO date" in result.output and "Traceback" not in result.output


def test_bad_sort_is_exit_2(default_index_dir: Path) -> None:
    result = invoke("query", "모델", "--index", str(default_index_dir), "--sort", "random")
    assert result.exit_code == 2


def test_total_survives_closing_the_index(default_index_dir: Path) -> None:
    with searchkit.open_index(default_index_dir) as index:
        results = index.search("확산 모델")
    assert results.total >= len(results) > 0


# every command takes --index and --json where it prints results


@pytest.mark.parametrize("command", ["query", "show", "similar", "stats", "reindex"])
def test_every_command_takes_index(command: str) -> None:
    result = invoke(command, "--help")
    assert result.exit_code == 0 and "--index" in result.stdout


@pytest.mark.parametrize("command", ["query", "show", "similar", "stats"])
def test_result_commands_take_json(command: str) -> None:
    assert "--json" in invoke(command, "--help").stdout
