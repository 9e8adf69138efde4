"""Shared fixtures: tiny hand-written posts, and indexes built once a session.

Indexing is the slow part of the suite (Kiwi loads in ~1.5 s; the default
corpus takes ~2 s, the shared one ~10 s), so every index that tests only
read is session-scoped and built on first use. Tests that change an index
work on `tiny_copy`, a copy of the session's tiny index and corpus; only
tests of a full build build from scratch.
"""

from __future__ import annotations

import importlib.util
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

import searchkit


def pytest_configure(config: pytest.Config) -> None:
    """Without the package's dependencies every test module would fail to
    import with a traceback of its own: say it once instead (exit 4)."""
    missing = [name for name in ("whoosh", "kiwipiepy", "click", "rich", "numpy", "hypothesis")
               if importlib.util.find_spec(name) is None]
    if missing:
        pytest.exit(f"papersearch's dependencies are not installed for this Python ({', '.join(missing)}): "
                    'run the README\'s test command, pip install -e ".[test]" && pytest', returncode=4)


REPO = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = REPO / "corpus"
SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"

# A tiny corpus in the real post format, chosen to test ranking:
#   2501.00001 says 확산 (diffusion) in nearly every section, never 로봇;
#   2501.00002 says 로봇 (robot) in nearly every section, never 확산;
#   2501.00003 says both 확산 and 로봇, once, in Method;
#   2501.00004 says "강화 학습" and "강화학습" (spacing variants), unlabelled
#       Introduction bullets and bulleted sections;
#   2501.00005 says 강화 and 학습 apart, never as a phrase, with Korean
#       labels; it is re-posted on 2025-01-08 with a different summary.
TINY_POSTS = {
    "2025-01-06-daily-papers-20250106.md": """\
---
layout: post
title: "Daily Papers — 2025-01-06"
date: 2025-01-06 08:00:00
tags: [papers]
---

# 1. [Diffusion Everywhere:   Scaling Image Generation](https://arxiv.org/abs/2501.00001)

> [Alphaxiv](https://www.alphaxiv.org/ko/overview/2501.00001)

## Introduction
- Goal: 본 논문은 확산 기반 이미지 생성의 품질을 높이는 것을 목표로 한다.  
- Motivation: 기존 확산 방법은 샘플링 단계가 많아 느리다.  
- Contribution: 새로운 확산 스케줄러를 제안한다.  

## Method  
확산 과정의 잡음 일정을 학습하여 확산 단계를 줄인다.  

## Results  
이미지 생성 벤치마크에서 확산 기준선보다 우수한 성능을 보였다.  

## Limitations  
고해상도 영상에서는 메모리 사용량이 크다.  

## Conclusion  
확산 기반 생성의 효율을 크게 개선하였다.

# 2. [Legged Robots that Walk](https://arxiv.org/abs/2501.00002)

## Introduction
- Goal: 본 연구는 사족 로봇의 보행 제어를 안정화하는 것을 목표로 한다.
- Motivation: 기존 로봇 제어기는 험지에서 자주 넘어진다.
- Contribution: 로봇 보행을 위한 새로운 제어기를 제안한다.

## Method
로봇 관절의 토크를 예측하는 정책을 시뮬레이션에서 학습한다.

## Results
실제 로봇 실험에서 넘어짐 횟수를 절반으로 줄였다.

## Limitations
계단 환경은 실험하지 않았다.

## Conclusion
로봇 보행의 안정성을 높였다.
""",
    "2025-01-07-daily-papers-20250107.md": """\
---
layout: post
title: "Daily Papers — 2025-01-07"
date: 2025-01-07 08:00:00
---

# 1. [Planning Manipulation from Video](https://arxiv.org/abs/2501.00003)

## Introduction
- Goal: 본 논문은 영상으로부터 조작 계획을 세우는 방법을 제안한다.
- Motivation: 시연 데이터를 모으는 비용이 크다.
- Contribution: 영상 예측 모델을 계획에 활용하는 틀을 제시한다.

## Method
확산 모델로 미래 영상을 생성하고 로봇 팔의 행동을 역으로 추정한다.

## Results
조작 과제 성공률이 기준선보다 높았다.

## Limitations
긴 작업에서는 오차가 누적된다.

## Conclusion
영상 생성이 조작 계획에 유용함을 보였다.

# 2. [Reward Shaping for Language Agents](https://arxiv.org/abs/2501.00004)

## Introduction
- 본 연구의 목표는 언어 에이전트의 강화 학습을 안정화하는 것이다.
- 보상이 희소하면 강화학습이 불안정해진다.
- 단계별 보상 설계 방법을 제안한다.

## Method
- 중간 단계마다 보상을 부여한다.
- 정책 경사로 에이전트를 학습한다.

## Results
- 수학 추론 과제에서 정확도가 올랐다.

## Limitations
- 보상 설계에 사람의 노력이 든다.

## Conclusion
- 밀집 보상이 강화 학습을 돕는다.

# 3. [Curriculum Design for Classifiers](https://arxiv.org/abs/2501.00005)

## Introduction
- 목표: 분류기 학습 순서를 설계하는 것이다.
- 동기: 쉬운 예제부터 학습하면 수렴이 빠르다.
- 기여: 난이도 기반 학습 일정을 제안한다.

## Method
데이터 증강을 강화하고 손실 가중치를 조정하여 학습한다.

## Results
이미지 분류 정확도가 소폭 올랐다.

## Limitations
정보 부족.

## Conclusion
학습 순서가 성능에 영향을 준다.
""",
    "2025-01-08-daily-papers-20250108.md": """\
---
layout: post
title: "Daily Papers — 2025-01-08"
date: 2025-01-08 08:00:00
---

# 1. [Curriculum Design for Classifiers](https://arxiv.org/abs/2501.00005v2)

## Introduction
- Goal: 분류기의 학습 순서를 자동으로 정하는 것이다.
- Motivation: 사람이 정한 순서는 데이터마다 다시 조정해야 한다.
- Contribution: 손실 기반 순서 결정 규칙을 제안한다.

## Method
예제별 손실로 난이도를 추정하여 학습 순서를 정한다.

## Results
세 데이터셋에서 수렴 속도가 빨라졌다.

## Limitations
대규모 데이터에서는 검증하지 않았다.

## Conclusion
자동 순서 결정이 수작업 순서를 대체할 수 있다.
""",
}
TINY_IDS = ("2501.00001", "2501.00002", "2501.00003", "2501.00004", "2501.00005")


def write_posts(directory: Path, posts: dict[str, str]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in posts.items():
        (directory / name).write_text(text, encoding="utf-8")
    return directory


def index_one_post(root: Path, body: str) -> Path:
    """An index of one post (front matter dated 2025-01-06, then ``body``)
    under ``root``: its directory."""
    write_posts(root / "corpus", {"2025-01-06-daily-papers-20250106.md": "---\ndate: 2025-01-06\n---\n\n" + body})
    searchkit.reindex(root / "corpus", root / "index")
    return root / "index"


def tied_post(day: str, ids: tuple[str, ...]) -> str:
    """A post whose papers all say the same, so every query ties them."""
    papers = "".join(f"""
# {n}. [Sparse Routing for Experts](https://arxiv.org/abs/{arxiv_id})

## Introduction
- Goal: 희소 라우팅으로 전문가 혼합 모델의 효율을 높인다.

## Method
라우터가 토큰마다 전문가를 고른다.
""" for n, arxiv_id in enumerate(ids, 1))
    return f"---\ntitle: Daily Papers\ndate: {day}\n---\n{papers}"


def grown_tied_corpus(root: Path) -> tuple[Path, Path, Path]:
    """Two posts of tied papers (`tied_post`; 2501.00001 in both), indexed
    a post at a time, the later name first: (corpus, index, where a full
    build may go)."""
    corpus, grown = root / "tied-corpus", root / "tied-grown"
    write_posts(corpus, {"2025-01-01-b.md": tied_post("2025-01-01", ("2501.00002", "2501.00001", "2501.00004"))})
    searchkit.reindex(corpus, grown)
    write_posts(corpus, {"2025-01-01-a.md": tied_post("2025-01-01", ("2501.00003", "2501.00001"))})
    searchkit.reindex(corpus, grown)
    return corpus, grown, root / "tied-full"


@pytest.fixture(autouse=True)
def isolated_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point the CLI's defaults at paths that do not exist, so no test reads
    or writes the repository's own index/ or corpus/ by accident."""
    monkeypatch.setenv("PAPERSEARCH_INDEX", str(tmp_path / "env-index"))
    monkeypatch.setenv("PAPERSEARCH_CORPUS", str(tmp_path / "env-corpus"))


@pytest.fixture(scope="session")
def shared_corpus() -> Path:
    if not SHARED.is_dir():
        pytest.skip("../shared/corpus not found: the shared corpus is not checked out beside the repo")
    return SHARED


@pytest.fixture
def tiny_corpus(tmp_path: Path) -> Path:
    """A fresh, writable copy of the tiny corpus (for tests that edit it)."""
    return write_posts(tmp_path / "tiny-corpus", TINY_POSTS)


@pytest.fixture(scope="session")
def tiny_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, searchkit.ReindexReport]:
    """The tiny corpus indexed once: (corpus, index, report); read-only."""
    root = tmp_path_factory.mktemp("tiny")
    corpus = write_posts(root / "corpus", TINY_POSTS)
    report = searchkit.reindex(corpus, root / "index")
    return corpus, root / "index", report


@pytest.fixture(scope="session")
def tiny_index_dir(tiny_build: tuple[Path, Path, searchkit.ReindexReport]) -> Path:
    return tiny_build[1]


@pytest.fixture(scope="session")
def tiny_index(tiny_index_dir: Path) -> Iterator[searchkit.Index]:
    with searchkit.open_index(tiny_index_dir) as index:
        yield index


@pytest.fixture
def tiny_copy(tiny_build: tuple[Path, Path, searchkit.ReindexReport], tmp_path: Path) -> tuple[Path, Path]:
    """A writable (corpus, index) pair copied from the session's tiny build,
    for tests that change posts and reindex: copying takes milliseconds, a
    fresh build seconds."""
    corpus, index, _ = tiny_build
    shutil.copytree(corpus, tmp_path / "corpus")
    shutil.copytree(index, tmp_path / "index")
    return tmp_path / "corpus", tmp_path / "index"


@pytest.fixture(scope="session")
def default_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, searchkit.ReindexReport]:
    """The repository's default corpus indexed once, with its report."""
    index = tmp_path_factory.mktemp("default") / "index"
    report = searchkit.reindex(DEFAULT_CORPUS, index)
    return index, report


@pytest.fixture(scope="session")
def default_index_dir(default_build: tuple[Path, searchkit.ReindexReport]) -> Path:
    return default_build[0]


@pytest.fixture(scope="session")
def default_index(default_index_dir: Path) -> Iterator[searchkit.Index]:
    with searchkit.open_index(default_index_dir) as index:
        yield index


@pytest.fixture(scope="session")
def shared_index(shared_corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[searchkit.Index]:
    """The 89 daily-papers posts indexed once (about ten seconds)."""
    corpus = shared_corpus / "daily-papers"
    index = tmp_path_factory.mktemp("shared") / "index"
    searchkit.reindex(corpus, index)
    with searchkit.open_index(index) as opened:
        yield opened
