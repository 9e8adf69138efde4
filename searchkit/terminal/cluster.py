"""``papersearch cluster``: start, stop and configure Sphinx nodes.

Kept apart from `terminal.cli` (which only registers this group), and
importing nothing heavy until a command runs: every CLI call imports it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

import click

from ..errors import SearchkitError


class ClusterProblem(click.ClickException):
    """A cluster error as one line on stderr, exit code 2."""

    exit_code = 2

    def show(self, file: Any = None) -> None:
        click.echo(f"Error: {self.format_message()}", err=True)


def _one_line(func: Callable) -> Callable:
    """Library errors (no searchd, a node that does not answer, a bad
    description) as one line, exit 2, never a traceback."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except SearchkitError as exc:
            raise ClusterProblem(str(exc)) from None
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)

    return wrapper


class DirectoryPath(click.Path):
    """A directory option that refuses an empty value: ``Path("")`` is the
    current directory, so ``--dir "$DIR"`` with ``$DIR`` unset would start
    or stop nodes wherever the user happens to stand."""

    def __init__(self) -> None:
        super().__init__(file_okay=False, path_type=Path)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str) and not value:
            self.fail("empty path; is a variable unset?", param, ctx)
        return super().convert(value, param, ctx)


_DIR = DirectoryPath()


@click.group(name="cluster")
def cluster() -> None:
    """Run papersearch on a Sphinx/Manticore cluster.

    \b
    Examples:
      papersearch cluster up --nodes 3 --dir /tmp/c    # 로컬 노드 3개 시작, 마지막 줄이 색인 URL
      papersearch reindex --index sphinx://127.0.0.1:PORT/papers
      papersearch query "확산 모델" --index sphinx://127.0.0.1:PORT/papers
      papersearch cluster down --dir /tmp/c            # 노드 중지
    """


@cluster.command(name="up")
@click.option("--nodes", "count", type=int, default=1, show_default=True, help="Local searchd nodes to start.")
@click.option("--dir", "directory", type=_DIR, required=True, help="Directory for the nodes' configs and data.")
@click.option("--mirrors", type=int, default=0, show_default=True, help="Copies of each shard on the next nodes.")
@_one_line
def up_command(count: int, directory: Path, mirrors: int) -> None:
    """Start N local searchd nodes on free loopback ports, one shard each.

    The last line printed is the index URL for --index.
    """
    from ..backends.sphinx.nodes import pids, up

    url = up(count, directory, mirrors=mirrors)
    for path, pid in pids(directory).items():
        click.echo(f"{path.parent.name}: pid {pid} ({path})")
    click.echo(str(url))


@cluster.command(name="down")
@click.option("--dir", "directory", type=_DIR, required=True, help="Directory given to `cluster up`.")
@_one_line
def down_command(directory: Path) -> None:
    """Stop the nodes started in DIR (by their pid files) and wait for them."""
    from ..backends.sphinx.nodes import down

    if not directory.is_dir():
        raise ClusterProblem(f"no cluster directory {directory}")
    click.echo(f"stopped {down(directory)} node(s) in {directory}")


@cluster.command(name="config")
@click.argument("description", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--out", "out", type=_DIR, required=True, help="Where to write node-K/sphinx.conf.")
@_one_line
def config_command(description: Path, out: Path) -> None:
    """Write each node's sphinx.conf from a cluster description (JSON:
    nodes, shards_per_node, mirrors)."""
    from ..backends.sphinx.config import load, write_configs

    for path in write_configs(load(description), out):
        click.echo(str(path))


@cluster.command(name="register")
@click.argument("description", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--index", "location", required=True, help="The cluster URL, sphinx://HOST:PORT/NAME.")
@_one_line
def register_command(description: Path, location: str) -> None:
    """Record the cluster's shards in it (done by `cluster up`; needed once
    for nodes started from `cluster config` files)."""
    from ..backends.sphinx import ClusterURL
    from ..backends.sphinx.config import load
    from ..backends.sphinx.meta import register_topology

    register_topology(ClusterURL.parse(location), load(description).topology())
    click.echo(f"registered {location}")
