"""Write the README's picture of the playground, docs/images/playground.png (run by hand).

It starts the playground's server on a free port of 127.0.0.1, opens the page in Debian's
Chromium (driven by Playwright's Python client: ``pip install playwright``; the browser is
the system's, ``apt-get install chromium``, never a download), trains the two-moons set for
a fixed number of steps, opens the ledger of one weight, asks for the Python script and walks
one training step to its first backward stage, then saves the window at 1280 x 800.

The training is deterministic (the server's seed, a fixed number of steps sent to the API),
so the picture changes only when the page or glassnet does.

Usage::

    python tools/playground_screenshot.py [--out docs/images/playground.png]
        [--dataset moons] [--steps 1200] [--chromium /usr/bin/chromium]
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from glassnet.glassbox.playground.server import serve_in_thread  # noqa: E402  (after sys.path)

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
READY = "() => window.playground && window.playground.ready"


def train_through_api(url: str, session: str, steps: int, chunk: int = 20) -> None:
    """``steps`` batches for the page's session, sent straight to the API ``chunk`` at a
    time (the loss curves get a point per request, as when the page plays)."""
    while steps > 0:
        body = json.dumps({"steps": min(steps, chunk), "grid": 0}).encode()
        request = urllib.request.Request(
            f"{url}api/sessions/{session}/step", data=body, method="POST"
        )
        request.add_header("Content-Type", "application/json")
        urllib.request.urlopen(request).close()
        steps -= chunk


def stage_the_page(page, url: str, dataset: str, steps: int) -> None:
    """Train, then open a ledger, the script and one stage of the walk-through."""
    page.goto(url)
    page.wait_for_function(READY)
    page.get_by_test_id("dataset").select_option(dataset)
    page.wait_for_function(READY)
    train_through_api(url, page.evaluate("playground.id"), steps)
    page.get_by_test_id("step").click()  # the page draws the trained state
    page.wait_for_function(READY)
    page.get_by_test_id("neuron-2-0").click()  # the ledger of a bias ...
    page.wait_for_function(READY)
    page.locator('[data-testid="weight-3-0-0"] .whit').click()  # ... then of a weight
    page.wait_for_function(READY)
    page.get_by_test_id("copy-python").click()
    page.wait_for_function(READY)
    page.get_by_test_id("step-through").click()
    page.wait_for_function(READY)
    stages = page.evaluate("playground.walk.stages.length")
    for _ in range((stages - 2) // 3 + 2):  # input, the forward layers, the loss, one backward
        page.get_by_test_id("trace-next").click()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images" / "playground.png")
    parser.add_argument("--dataset", default="moons")
    parser.add_argument("--steps", type=int, default=1200)
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    server, thread = serve_in_thread(0)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
            context = browser.new_context(
                viewport={"width": 1280, "height": 800},
                permissions=["clipboard-read", "clipboard-write"],
            )
            page = context.new_page()
            stage_the_page(page, server.url, args.dataset, args.steps)
            args.out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(args.out))
            browser.close()
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
