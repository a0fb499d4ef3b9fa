"""The web page in real Chromium (Debian's, driven by Selenium): a teacher enters a key, submits
a Markdown lecture, watches the progress bar move through the stages, plays the video with its
subtitles track and sees its contact sheet (on a phone too); a lecture the renderer refuses shows
the VideoJob's message; a portrait video (for reels and shorts) asked for on the page plays in a
portrait player that fits a phone's screen. Screenshots of each step are saved in the test's tmp dir.

The renderer Pod's part is played by the gateway tier's stand-in (tests/support/gateway_renderer.py),
which uploads a real MP4 in the VideoJob's orientation made by ffmpeg."""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path
from typing import Any

import httpx2
import pytest
from PIL import Image
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from support import wait_for
from support.gateway_renderer import sample_contact_sheet

pytestmark = [pytest.mark.cluster, pytest.mark.minio]

HEADLESS_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)


@pytest.fixture
def browser(tmp_path: Path):
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    assert chromium and driver, "chromium and chromium-driver are needed (hack/apt-packages.txt)"
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (
        *HEADLESS_FLAGS,
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
        "--window-size=1280,1600",
        "--autoplay-policy=no-user-gesture-required",
    ):
        options.add_argument(flag)
    session = webdriver.Chrome(
        options=options, service=Service(executable_path=driver, log_output=str(tmp_path / "chromedriver.log"))
    )
    yield session
    session.quit()


class Page:
    def __init__(self, browser: Any, shots: Path) -> None:
        self.browser, self.shots, self.step = browser, shots, 0

    def find(self, element_id: str) -> Any:
        return self.browser.find_element(By.ID, element_id)

    def visible(self, element_id: str) -> bool:
        return self.find(element_id).is_displayed()

    def wait(self, check: Any, timeout: float = 30, what: str = "the page") -> Any:
        return WebDriverWait(self.browser, timeout, poll_frequency=0.1).until(lambda _: check(), what)

    def screenshot(self, name: str, show: str | None = None) -> Path:
        if show:  # the window is one screen tall: bring the part this step is about into view
            self.browser.execute_script("document.getElementById(arguments[0]).scrollIntoView({block: 'center'})", show)
        self.step += 1
        path = self.shots / f"{self.step:02d}-{name}.png"
        self.browser.save_screenshot(str(path))
        if keep := os.environ.get("VIDEOJOB_SCREENSHOT_DIR"):  # pytest keeps only its last few tmp dirs
            Path(keep).mkdir(parents=True, exist_ok=True)
            shutil.copy(path, Path(keep) / path.name)
        return path


def _enter_key(page: Page, url: str, key: str) -> None:
    page.browser.get(url + "/")
    page.find("api-key").send_keys(key)
    page.find("key-form").submit()
    page.wait(lambda: page.visible("create-section"), what="the form after the key")


def _box(page: Page, element_id: str) -> dict[str, float]:
    """Where an element is drawn, with the viewport's size and the width its section's column offers."""
    return page.browser.execute_script(
        "const e = document.getElementById(arguments[0]), r = e.getBoundingClientRect();"
        "const s = e.closest('section'), style = getComputedStyle(s);"
        "return {left: r.left, right: r.right, width: r.width, height: r.height,"
        " viewport: document.documentElement.clientWidth, viewportHeight: window.innerHeight,"
        " column: s.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight),"
        " overflow: document.documentElement.scrollWidth - window.innerWidth}",
        element_id,
    )


def _player_shape(page: Page) -> tuple[int, int]:
    """The video's own width and height, as the browser decoded them."""
    size = page.browser.execute_script(
        "const v = document.getElementById('player'); return [v.videoWidth, v.videoHeight]"
    )
    return size[0], size[1]


def _phone_sized(page: Page) -> None:
    page.browser.set_window_size(390, 844)
    page.wait(lambda: page.browser.execute_script("return window.innerWidth") <= 390, 10, "the phone-sized window")


def _submit_lecture(page: Page, markdown: str | None = None) -> None:
    if markdown is None:
        page.find("sample-button").click()
    else:
        page.browser.execute_script("document.getElementById('markdown').value = arguments[0]", markdown)
    Select(page.find("quality")).select_by_value("low")
    Select(page.find("theme")).select_by_value("physics")
    page.find("create-button").click()


def test_a_lecture_from_the_page_to_the_player_and_a_failure_message(
    cluster, operator, renderer, create_tenant, start_gateway, browser, tmp_path
):
    key = create_tenant(cluster.namespace)
    gateway = start_gateway()
    page = Page(browser, tmp_path)
    browser.get(gateway.url + "/")
    assert browser.title.startswith("videojob")
    page.screenshot("key-entry")
    _enter_key(page, gateway.url, key)

    page.find("sample-button").click()
    assert page.find("markdown").get_property("value").startswith("# How a rainbow forms")
    page.screenshot("lecture-form")
    _submit_lecture(page)
    page.wait(lambda: page.visible("progress-section"), what="the progress bar")
    videojob = wait_for(lambda: cluster.get("vj")["items"], 20, "the VideoJob")[0]
    name = videojob["metadata"]["name"]
    assert videojob["spec"]["voice"] == {"provider": "piper", "name": "en_US-joe-medium"}  # the page's default
    assert videojob["spec"].get("orientation", "landscape") == "landscape"  # the page's default, too

    pod = renderer.start(name)
    renderer.progress(pod, "Rendering", 25, "Rendering scene 1/3", eta=40)
    page.wait(lambda: page.find("stage").text == "Rendering scene 1/3", what="stage 1/3 on the page")
    assert page.find("progress").get_property("value") == 25
    assert "left" in page.find("eta").text
    page.screenshot("progress-scene-1", "progress-section")
    renderer.progress(pod, "Assembling", 80, "Assembling the video", eta=5)
    page.wait(lambda: page.find("stage").text == "Assembling the video", what="the assembling stage")
    assert page.find("progress").get_property("value") == 80
    page.screenshot("progress-assembling", "progress-section")
    renderer.succeed(pod, name)

    page.wait(lambda: page.visible("player-section"), 60, "the player")
    page.wait(
        lambda: browser.execute_script("return document.getElementById('player').readyState") >= 1,
        30,
        "the video's metadata",
    )
    player = browser.execute_script(
        "const v = document.getElementById('player'); const t = v.querySelector('track');"
        "return {duration: v.duration, ready: v.readyState, error: v.error && v.error.code,"
        " tracks: v.textTracks.length, kind: t && t.kind, trackReady: t && t.readyState, src: t && t.src}"
    )
    assert player["duration"] > 0 and player["error"] is None, player
    assert player["tracks"] == 1 and player["kind"] == "subtitles", player
    page.wait(
        lambda: browser.execute_script("return document.querySelector('#player track').readyState") == 2,
        20,
        "the subtitles track to load",
    )
    browser.execute_script("const v = document.getElementById('player'); v.muted = true; v.play();")
    page.wait(
        lambda: browser.execute_script("return document.getElementById('player').currentTime") > 0.5,
        20,
        "the video to play",
    )
    assert page.find("download-video").get_attribute("href").startswith("http")
    assert page.find("progress").get_property("value") == 100
    page.screenshot("player", "player-section")
    width, height = _player_shape(page)
    assert width > height, (width, height)  # the landscape sample
    box = _box(page, "player")
    assert abs(box["width"] - box["column"]) < 1, box  # a landscape player is as wide as the column, as before
    assert abs(box["width"] / box["height"] - width / height) < 0.02, box
    history = page.find("history").text
    assert "completed" in history and "portrait" not in history
    _the_contact_sheet_is_shown(page, renderer.contact_sheet)

    # A lecture the renderer refuses: the page shows the VideoJob's own message.
    _submit_lecture(page, "# Broken\n\n| a | table |\n")
    page.wait(lambda: len(cluster.get("vj")["items"]) == 2, what="the second VideoJob")
    second = next(item["metadata"]["name"] for item in cluster.get("vj")["items"] if item["metadata"]["name"] != name)
    renderer.fail(
        renderer.start(second), "InvalidStoryboard", "scene 1 has nothing to show: add a bullet list or a paragraph"
    )
    page.wait(lambda: "scene 1 has nothing to show" in page.find("video-error").text, 60, "the failure message")
    assert page.find("video-error").get_attribute("role") == "alert"
    page.screenshot("failure-message", "progress-section")

    # Input the gateway refuses never reaches the cluster, and the field is named.
    _submit_lecture(page, "")
    page.wait(lambda: page.find("form-error").text, what="the form error")
    assert "markdown" in page.find("form-error").text
    page.screenshot("form-error", "form-error")
    assert len(cluster.get("vj")["items"]) == 2

    # A lecture the renderer's parser refuses is refused at once, in its words, naming the line: no Pod starts.
    _submit_lecture(page, "# Sizes\n\n$$\\scalebox{3}{x}$$\n")
    page.wait(lambda: "line 3 (section 'Sizes')" in page.find("form-error").text, what="the line in the form error")
    assert "\\scalebox comes from the graphics package" in page.find("form-error").text
    assert page.find("form-error").text.endswith("(field: markdown)")
    assert len(cluster.get("vj")["items"]) == 2


def _the_contact_sheet_is_shown(page: Page, uploaded: bytes) -> None:
    """The finished video's contact sheet: an image that loaded, is the PNG the renderer uploaded, opens at
    full size from its link, and fits a phone's width."""
    page.wait(lambda: page.visible("contact-sheet-figure"), 30, "the contact sheet")
    page.wait(
        lambda: (
            page.browser.execute_script("const i = document.getElementById('contact-sheet'); return i.complete")
            and page.find("contact-sheet").get_property("naturalWidth") > 0
        ),
        30,
        "the contact sheet image to load",
    )
    image = page.find("contact-sheet")
    alt = image.get_attribute("alt")
    assert "contact sheet" in alt.lower() and "every scene" in alt, alt
    sheet = Image.open(io.BytesIO(uploaded))
    assert (image.get_property("naturalWidth"), image.get_property("naturalHeight")) == sheet.size
    source = image.get_property("currentSrc")
    assert page.find("contact-sheet-link").get_property("href") == source  # the link opens the full PNG
    assert page.find("download-contact-sheet").get_property("href") == source
    shown = httpx2.get(source, timeout=30)
    assert shown.status_code == 200 and shown.content == uploaded  # what the browser loaded is the renderer's object
    page.screenshot("contact-sheet", "contact-sheet-figure")

    _phone_sized(page)
    try:
        fits = _box(page, "contact-sheet")
        assert fits["overflow"] <= 0 and fits["left"] >= 0 and fits["right"] <= fits["viewport"], fits
        assert fits["width"] > 0.8 * (fits["viewport"] - 64), fits  # it fills the column, not a postage stamp
        assert abs(fits["height"] / fits["width"] - sheet.height / sheet.width) < 0.02, fits  # not squashed
        page.screenshot("contact-sheet-phone", "contact-sheet-figure")
        player = _box(page, "player")  # the landscape player on a phone: the column's width, 16:9
        assert abs(player["width"] - player["column"]) < 1 and player["width"] > player["height"], player
    finally:
        page.browser.set_window_size(1280, 1600)


def test_a_portrait_video_from_the_page_plays_in_a_portrait_player_that_fits_a_phone(
    cluster, operator, renderer, create_tenant, start_gateway, browser, tmp_path
):
    key = create_tenant(cluster.namespace)
    gateway = start_gateway()
    page = Page(browser, tmp_path)
    page.step = 20
    _enter_key(page, gateway.url, key)
    shape = page.find("orientation")
    assert shape.get_property("value") == "landscape"  # the default
    label = browser.execute_script("return document.querySelector('label[for=orientation]').textContent")
    assert label.strip(), "the orientation control has a label"
    shape.send_keys("Portrait")  # by keyboard, as a user without a mouse chooses it
    assert shape.get_property("value") == "portrait"
    page.screenshot("portrait-form", "orientation")
    _submit_lecture(page)
    videojob = wait_for(lambda: cluster.get("vj")["items"], 20, "the VideoJob")[0]
    name = videojob["metadata"]["name"]
    assert videojob["spec"]["orientation"] == "portrait", videojob["spec"]  # what the page asked for
    renderer.succeed(renderer.start(name), name)  # the stand-in uploads a portrait MP4, as the renderer would

    page.wait(lambda: page.visible("player-section"), 60, "the player")
    page.wait(
        lambda: browser.execute_script("return document.getElementById('player').readyState") >= 1,
        30,
        "the video's metadata",
    )
    width, height = _player_shape(page)
    assert height > width, (width, height)  # the file the player loaded is portrait
    page.wait(lambda: "portrait" in page.find("history").text, 30, "the history naming the portrait video")
    desktop = _box(page, "player")
    assert desktop["height"] > desktop["width"], desktop
    assert abs(desktop["width"] / desktop["height"] - width / height) < 0.02, desktop  # no black bars
    assert desktop["height"] <= desktop["viewportHeight"], desktop  # never taller than the screen
    page.screenshot("portrait-player", "player-section")

    _phone_sized(page)
    try:
        phone = _box(page, "player")
        assert phone["overflow"] <= 0 and phone["left"] >= 0 and phone["right"] <= phone["viewport"], phone
        assert phone["height"] > phone["width"] and phone["height"] <= phone["viewportHeight"], phone
        assert abs(phone["width"] / phone["height"] - width / height) < 0.02, phone
        # It uses the phone: as wide as the column, or as tall as the screen allows (80% of it).
        assert phone["width"] > phone["column"] - 1 or phone["height"] > 0.75 * phone["viewportHeight"], phone
        page.screenshot("portrait-player-phone", "player")
        page.wait(lambda: page.find("contact-sheet").get_property("naturalWidth") > 0, 30, "the portrait contact sheet")
        sheet = Image.open(io.BytesIO(sample_contact_sheet(renderer.samples, "portrait")))
        image = page.find("contact-sheet")
        assert (image.get_property("naturalWidth"), image.get_property("naturalHeight")) == sheet.size
        fits = _box(page, "contact-sheet")
        assert fits["left"] >= 0 and fits["right"] <= fits["viewport"], fits
        assert fits["height"] <= fits["viewportHeight"], fits
        assert abs(fits["height"] / fits["width"] - sheet.height / sheet.width) < 0.02, fits  # not squashed
        page.screenshot("portrait-contact-sheet-phone", "contact-sheet-figure")
    finally:
        page.browser.set_window_size(1280, 1600)


def test_the_page_reads_on_a_phone_sized_screen(start_gateway, browser, tmp_path):
    gateway = start_gateway()
    browser.set_window_size(390, 844)
    browser.get(gateway.url + "/")
    overflow = browser.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than a phone"
    labels = browser.execute_script(
        "return [...document.querySelectorAll('input, select, textarea')]"
        ".filter(e => e.type !== 'radio' && e.type !== 'checkbox')"
        '.map(e => [e.id, !!document.querySelector(`label[for="${e.id}"]`)])'
    )
    assert all(has for _, has in labels), labels
    page = Page(browser, tmp_path)
    page.step = 9
    page.screenshot("phone")
