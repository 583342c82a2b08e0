"""The search page in real headless Chromium (Debian's), driven by Playwright, against the real server."""

import shutil
import urllib.parse
from pathlib import Path

import pytest

from indexer.settings import ROOT

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = ROOT / "artifacts" / "screenshots"
QUESTION = "hva gjør jeg når en elev forteller at hun blir mobbet?"
pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: `make test` installs Debian's chromium; run it, or "
                    "`apt-get install -y chromium chromium-driver`")
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                              args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                                    "--disable-component-update", "--disable-sync", "--no-first-run"])
        yield b
        b.close()


@pytest.fixture
def page(browser):
    ctx = browser.new_context(viewport={"width": 1200, "height": 900}, locale="nb-NO")
    pg = ctx.new_page()
    dialogs = []
    pg.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    pg.dialogs = dialogs
    yield pg
    ctx.close()


def shot(pg, name: str) -> None:
    pg.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_type_a_question_and_submit(page, live_server):
    base, _ = live_server
    page.goto(base + "/")
    shot(page, "01-start")
    page.fill("#q", QUESTION)
    page.click("button[type=submit] >> nth=0")
    page.wait_for_selector("ol.hits li.hit")
    assert "treff" in page.inner_text("#treff")
    assert page.locator("li.hit").count() >= 3
    assert page.locator("li.hit .cite").first.inner_text().startswith("Kilde:")
    shot(page, "02-results")


def test_theme_filter_shows_only_that_theme(page, live_server):
    base, _ = live_server
    page.goto(base + "/?" + urllib.parse.urlencode({"q": QUESTION}))
    page.click("summary")  # open «Filtrer»
    page.check("input[name=theme][value=selvskading]")
    page.click("details button[type=submit]")
    page.wait_for_selector("ol.hits li.hit")
    assert "theme=selvskading" in page.url  # filter state lives in the URL
    for hit in page.locator("li.hit .meta").all():
        assert "Selvskading" in hit.inner_text()
    shot(page, "03-filtered")
    page.go_back()
    assert "theme=selvskading" not in page.url


def test_open_document_shows_cited_passage_highlighted(page, live_server):
    base, _ = live_server
    page.goto(base + "/?" + urllib.parse.urlencode({"q": "eleven kutter seg i armene"}))
    page.locator("li.hit h3 a").first.click()
    page.wait_for_selector("mark.cited")
    assert "/dokument/" in page.url and "#c" in page.url
    cited = page.locator("mark.cited").first
    assert cited.is_visible()
    box = cited.bounding_box()
    assert box and 0 <= box["y"] < page.viewport_size["height"]  # scrolled into view
    shot(page, "04-document")


def test_keyboard_only_search(page, live_server):
    base, _ = live_server
    page.goto(base + "/")
    page.keyboard.press("Tab")  # skip link
    assert page.evaluate("document.activeElement.className") == "skip"
    for _ in range(5):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "q":
            break
    assert page.evaluate("document.activeElement.id") == "q"
    page.keyboard.type("snus og veip")
    page.keyboard.press("Enter")
    page.wait_for_selector("ol.hits li.hit")
    assert "q=snus+og+veip" in page.url


def test_search_works_without_javascript(browser, live_server):
    base, _ = live_server
    ctx = browser.new_context(java_script_enabled=False)
    pg = ctx.new_page()
    pg.goto(base + "/")
    pg.fill("#q", "foreldre som ikke svarer")
    pg.click("button[type=submit] >> nth=0")
    pg.wait_for_selector("ol.hits li.hit")
    assert pg.locator("li.hit").count() >= 3
    ctx.close()


def test_script_query_is_shown_as_text(page, live_server):
    base, _ = live_server
    evil = "<script>alert('x')</script><img src=x onerror=alert(1)>"
    page.goto(base + "/?" + urllib.parse.urlencode({"q": evil}))
    page.wait_for_load_state("networkidle")
    assert page.dialogs == []
    assert page.input_value("#q") == evil
    assert evil in page.title()
    assert page.locator("img[src=x]").count() == 0


def test_acute_question_shows_safeguarding_box(page, live_server):
    base, _ = live_server
    page.goto(base + "/?" + urllib.parse.urlencode({"q": "eleven min sier hun ikke vil leve lenger"}))
    box = page.locator("aside.safety")
    assert box.is_visible() and "113" in box.inner_text() and "116 111" in box.inner_text()
    shot(page, "05-acute")


@pytest.mark.parametrize("path", ["/", "/?q=mobbing%20i%20friminuttet", "/dokument/akutt-hjelp",
                                  "/tema/selvskading", "/dokument/lov-2023-06-09-30-kap-12"])
def test_no_horizontal_scroll_at_360px(browser, live_server, path):
    base, _ = live_server
    ctx = browser.new_context(viewport={"width": 360, "height": 740})
    pg = ctx.new_page()
    pg.goto(base + path)
    width = pg.evaluate("document.documentElement.scrollWidth")
    if path == "/?q=mobbing%20i%20friminuttet":
        pg.screenshot(path=str(ARTIFACTS / "06-mobile.png"), full_page=True)
    ctx.close()
    assert width <= 360


@pytest.mark.parametrize("path", ["/", "/?q=mobbing%20i%20friminuttet&theme=mobbeforebygging",
                                  "/dokument/akutt-hjelp?avsnitt=c1", "/tema/selvskading", "/finnes-ikke",
                                  "/dokument/lov-2023-06-09-30-kap-12?avsnitt=c3",  # a law chapter (404 without laws)
                                  "/?q=hva%20sier%20loven%20om%20meldeplikt"])
def test_axe_finds_no_serious_violations(browser, live_server, path):
    axe = Path(__import__("axe_playwright_python").__file__).with_name("axe.min.js")
    base, _ = live_server
    ctx = browser.new_context(bypass_csp=True)  # to inject axe; the page itself runs no script
    pg = ctx.new_page()
    pg.goto(base + path)
    pg.add_script_tag(path=str(axe))
    result = pg.evaluate("axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']})")
    ctx.close()
    serious = [(v["id"], v["impact"], len(v["nodes"])) for v in result["violations"]
               if v["impact"] in ("serious", "critical")]
    assert serious == []


def test_theme_chip_links_narrow_and_widen(page, live_server):
    base, _ = live_server
    page.goto(base + "/?" + urllib.parse.urlencode({"q": "elev kutter seg"}))
    chip = page.locator("nav.chips a.chip", has_text="Selvskading")
    count = int(chip.locator(".count").inner_text())
    chip.click()
    page.wait_for_selector("ol.hits li.hit")
    assert "theme=selvskading" in page.url and page.locator("nav.chips a.chip.on").count() == 1
    assert int(page.inner_text("#treff").split()[0]) == count
    page.locator("nav.chips a.chip.on").click()
    assert "theme=" not in page.url


def test_theme_page_puts_contacts_first(page, live_server):
    base, _ = live_server
    page.goto(base + "/tema/selvskading")
    first = page.locator("article.theme section").first
    assert first.locator("h2").inner_text() == "Hvem kan hjelpe?" and first.locator("li").count() >= 1
    shot(page, "07-theme")


def test_answer_box_quotes_and_links_to_the_cited_passage(page, live_server):
    base, _ = live_server
    page.goto(base + "/?" + urllib.parse.urlencode({"q": "hva er traumebevisst omsorg"}))
    box = page.locator("section.answer")
    assert box.is_visible() and "Kort svar fra kildene" in box.inner_text()
    first_hit_title = page.locator("li.hit h3").first.inner_text()
    assert first_hit_title in box.locator(".answer-sources").inner_text()  # [1] is the first hit
    shot(page, "08-answer")
    quoted = box.locator(".quote").inner_text().split("»")[0].lstrip("«")
    box.locator("a.mark").first.click()
    page.wait_for_selector("mark.cited")
    assert quoted in " ".join(page.locator("mark.cited").all_inner_texts())


def test_weak_evidence_says_so_and_offers_themes(page, live_server):
    base, _ = live_server
    page.goto(base + "/?" + urllib.parse.urlencode({"q": "samarbeid"}))
    box = page.locator("section.answer.unsure")
    assert "Fant ikke et sikkert svar" in box.inner_text()
    assert box.locator("a[href^='/tema/']").count() >= 1


LAWS = pytest.mark.skipif(not (ROOT.parent / "shared" / "corpus-public" / "laws").is_dir(),
                          reason="law texts not found at ../shared/corpus-public/laws; the bank serves without laws")


@LAWS
def test_a_guide_links_to_the_law_section_and_the_section_lists_the_guides(page, live_server):
    base, _ = live_server
    page.goto(base + "/dokument/mobbesak-steg-for-steg-aktivitetsplikt")
    link = page.locator("a.lawref", has_text="opplæringslova § 12-4").first
    assert link.is_visible()
    link.click()
    page.wait_for_selector("#p12-4")
    assert "/dokument/lov-2023-06-09-30-kap-12" in page.url and page.url.endswith("#p12-4")
    heading = page.locator("#p12-4")
    box = heading.bounding_box()
    assert box and 0 <= box["y"] < page.viewport_size["height"]  # the section is scrolled into view
    assert heading.inner_text().startswith("§ 12-4. Plikt til å sikre")
    assert page.locator("mark.cited").first.is_visible()  # its passage highlighted
    aside = page.locator("#p12-4 ~ aside.cited-by").first
    assert aside.locator("h3").inner_text() == "Veiledere som viser til denne paragrafen"
    lovdata = page.locator("#p12-4 + p.lovdata a")
    assert lovdata.get_attribute("href") == "https://lovdata.no/lov/2023-06-09-30/§12-4"
    assert "Norsk lisens for offentlige data (NLOD) distribuert av Lovdata" in page.inner_text("article")
    shot(page, "10-law-section")
    aside.locator("a", has_text="Mobbesak").first.click()
    page.wait_for_selector("a.lawref")
    assert "/dokument/mobbesak-steg-for-steg-aktivitetsplikt" in page.url


@LAWS
def test_a_legal_question_shows_the_section_with_lovdata_and_the_credit(page, live_server):
    base, _ = live_server
    page.goto(base + "/?" + urllib.parse.urlencode({"q": "Hva står i opplæringslova § 12-4?"}))
    first = page.locator("li.hit").first
    assert first.locator("h3").inner_text().startswith("Opplæringslova § 12-4")
    assert first.locator("a", has_text="Les paragrafen på Lovdata").get_attribute("href") == \
        "https://lovdata.no/lov/2023-06-09-30/§12-4"
    assert "distribuert av Lovdata" in first.locator("p.license").inner_text()
    shot(page, "11-legal-question")
