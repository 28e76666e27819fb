"""The `h2ocloud` command: `h2ocloud node` runs a daemon, `h2ocloud demo` runs the main job."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from h2ocloud import __version__


def _run_node(ns: argparse.Namespace) -> int:
    from h2ocloud.node import logsetup
    from h2ocloud.node.config import ConfigError, config_from_args, unknown_environment

    try:
        cfg = config_from_args(ns)
    except ConfigError as e:
        ns.parser.error(str(e))  # usage line + the message naming the variable; exit 2
    except OSError as e:
        print(f"h2ocloud: error: {e}", file=sys.stderr)
        return 2
    logsetup.configure(cfg.log_level, cfg.log_format, cfg.node_id)
    for name in unknown_environment():
        logging.getLogger("h2ocloud.config").warning(
            "environment variable %s is not an h2ocloud setting and is ignored (see h2ocloud node --help)", name)
    from h2ocloud.kernel.score import hold_blas_to_one_thread
    from h2ocloud.node.server import Node, StartupError

    hold_blas_to_one_thread()  # the node's threads score side by side, one BLAS thread each

    async def main() -> None:
        node = Node(cfg)
        await node.serve()

    try:
        asyncio.run(main())
    except StartupError as e:
        print(f"h2ocloud: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        pass
    return 0


def _run_demo(ns: argparse.Namespace) -> int:
    from h2ocloud.demo import run_demo

    return run_demo(ns)


def main(argv: list[str] | None = None) -> int:
    from h2ocloud.node.config import add_node_arguments

    parser = argparse.ArgumentParser(prog="h2ocloud", description="distributed deep learning in the style of H2O")
    parser.add_argument("--version", action="version", version=f"h2ocloud {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    node = sub.add_parser("node", help="run a node daemon in the foreground")
    add_node_arguments(node)
    node.set_defaults(fn=_run_node, parser=node)
    demo = sub.add_parser("demo", help="start a local node and run the booklet's examples on shipped data")
    demo.add_argument("--epochs", type=float, default=None, help="epochs to train (default: the booklet's 10)")
    demo.add_argument("--data", default=None, help="folder holding mnist_train_10k.csv.gz and mnist_test.csv.gz "
                      "(default: the MNIST rows shipped in the package)")
    demo.add_argument("--url", default=None, help="a running node's web URL to use instead of a local node")
    demo.set_defaults(fn=_run_demo)
    ns = parser.parse_args(argv)
    return ns.fn(ns)


if __name__ == "__main__":
    sys.exit(main())
