"""``glassnet playground``: the glass box in the browser, served on 127.0.0.1."""

from __future__ import annotations

from glassnet.cli.flags import UsageError

DEFAULT_PORT = 8765
#: without --port, the default port and the next ones are tried in turn
PORT_TRIES = 20


def add_playground(sub):
    p = sub.add_parser(
        "playground",
        help="watch a network learn in your browser (a local web app)",
        description="Start the playground on 127.0.0.1 and open it in the browser: data in "
        "the plane, every neuron as a heat map, every weight's chain rule. Ctrl-C stops it.",
    )
    p.add_argument(
        "--port",
        type=int,
        default=None,
        help=f"the port (default: {DEFAULT_PORT}, or the next free one; 0: any free port)",
    )
    p.add_argument("--no-browser", action="store_true", help="do not open the browser")
    p.set_defaults(run=run_playground)


def run_playground(args) -> int:
    import webbrowser

    from glassnet.glassbox.playground.server import bind

    if args.port is not None and not 0 <= args.port <= 65535:
        raise UsageError(f"--port must be between 0 and 65535, got {args.port}")
    try:
        if args.port is None:
            server = bind(DEFAULT_PORT, tries=PORT_TRIES)
        else:
            server = bind(args.port)
    except OSError as exc:
        if args.port is None:
            last = DEFAULT_PORT + PORT_TRIES - 1
            raise UsageError(
                f"ports {DEFAULT_PORT} to {last} are all in use ({exc.strerror}); "
                "choose one with --port (0: any free port)"
            ) from None
        raise UsageError(
            f"--port {args.port} cannot be used ({exc.strerror}); choose another, "
            "or --port 0 for any free port"
        ) from None
    print(f"glassnet playground: {server.url} (Ctrl-C stops it)", flush=True)
    if not args.no_browser:
        webbrowser.open(server.url)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("glassnet playground: stopped")
    finally:
        server.server_close()
    return 0
