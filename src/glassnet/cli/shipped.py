"""``glassnet demo`` and ``glassnet datasets``: what ships with glassnet."""

from __future__ import annotations

from glassnet.cli.flags import UsageError


def add_demo(sub):
    p = sub.add_parser(
        "demo",
        help="run one of the seed tutorials or a showcase",
        description="Run a demo; without a name, list them.",
    )
    p.add_argument("name", nargs="?", help="the demo to run")
    p.add_argument("--out-dir", default=".", help="folder for pictures (default: here)")
    p.add_argument("--seed", type=int, default=None, help="random seed")
    p.add_argument("--full", action="store_true", help="digits: use all 70,000 MNIST digits")
    p.add_argument("--data-dir", default=None, help="digits: folder holding the MNIST files")
    p.add_argument("--epochs", type=int, default=None, help="digits: training epochs")
    p.set_defaults(run=run_demo)


def run_demo(args) -> int:
    from inspect import signature

    from glassnet.demos import DEMOS

    if args.name is None:
        width = max(map(len, DEMOS))
        print("demos (run one with: glassnet demo NAME)")
        for name, (_, description) in DEMOS.items():
            print(f"  {name:<{width}}  {description}")
        return 0
    if args.name not in DEMOS:
        raise UsageError(f"unknown demo {args.name!r}; choose from: {', '.join(DEMOS)}")
    # The demo checks its own options (an --epochs of 0, an --out-dir that is no folder).
    options = {"out_dir": args.out_dir, "full": args.full, "data_dir": args.data_dir}
    if args.seed is not None:
        options["rng"] = args.seed
    if args.epochs is not None:
        options["epochs"] = args.epochs
    demo = DEMOS[args.name][0]
    taken = signature(demo).parameters  # a demo takes only the options it uses
    demo(**{key: value for key, value in options.items() if key in taken})
    return 0


def add_datasets(sub):
    p = sub.add_parser(
        "datasets",
        help="list the tables shipped with glassnet",
        description="The example tables shipped with glassnet: use their "
        "names wherever a CSV file is expected.",
    )
    p.set_defaults(run=run_datasets)


def run_datasets(args) -> int:
    from glassnet.datasets.tabular import TABLES, table_path

    width = max(map(len, TABLES))
    print("tables shipped with glassnet (use the name wherever a CSV file is expected)")
    for name, (description, example) in TABLES.items():
        print(f"  {name:<{width}}  {description}")
        print(f"  {'':<{width}}  e.g. {example}")
    print(f"folder: {table_path('xor.csv').parent}")
    return 0
