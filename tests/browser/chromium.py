"""One headless Chromium for the browser tests (Debian's chromium + chromium-driver): skipped
locally when absent, failing in CI (tests.conftest.require)."""

import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

from tests.conftest import require

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
REPO = Path(__file__).resolve().parents[2]


def screenshot_dir() -> Path:
    """Where the browser tests save what they saw: var/screenshots/ (ignored by git), so a test
    run changes no tracked file. `UPDATE_SCREENSHOTS=1 make test` writes the README's pictures
    in tests/screenshots/ instead, on purpose."""
    update = os.environ.get("UPDATE_SCREENSHOTS", "").lower() in {"1", "true", "yes"}
    folder = REPO / "tests" / "screenshots" if update else REPO / "var" / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@contextmanager
def chromium(*, language: str = "en", window: str = "1280,900"):
    """A driver with a fresh profile; the network is closed here, so the background flags
    matter (no updates, no sync, no component downloads)."""
    require(
        Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists(),
        "Chromium and ChromeDriver (Debian: chromium chromium-driver) are needed",
    )
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="chromium-")
    options = Options()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--window-size={window}",
        "--lang=en",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    options.add_experimental_option("prefs", {"intl.accept_languages": language})
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})  # driver.get_log("browser")
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
