"""The application form by keyboard only, at phone width: skip link, errors tied to their
fields and announced once, focus on the first error, nothing hidden under the sticky bar."""

import pytest
from django.core.management import call_command

from edupilot.orgs.models import Locality, Role
from tests.conftest import make_school, make_user, org

pytestmark = pytest.mark.e2e

PASSWORD = "Jinshui-2019-pass"

# Is the focused element fully visible, not under the sticky save/submit bar?
FOCUS_CLEAR = """() => {
  const el = document.activeElement;
  const bar = document.querySelector(".sticky-actions");
  if (!el || !bar || bar.contains(el)) return true;
  const r = el.getBoundingClientRect(), b = bar.getBoundingClientRect();
  // A field taller than the space above the bar shows its top.
  return r.top >= 0 && (r.bottom <= b.top + 1 || r.top <= 16);
}"""


@pytest.fixture
def applicant(transactional_seeded):
    call_command("programme", "load", "--all", "--open-now", verbosity=0)
    school = make_school(org("金水区"), name="郑州市金水区键盘路小学", locality=Locality.URBAN)
    return make_user(school, Role.APPLICANT, username="keyboard1", password=PASSWORD)


def tab_to(page, selector: str, limit: int = 200) -> int:
    """Press Tab until the focused element matches ``selector``; the number of presses."""
    for n in range(1, limit + 1):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            return n
    raise AssertionError(f"{selector} not reached by Tab")


@pytest.mark.parametrize("size", [(360, 640), (1024, 768)])
def test_the_form_by_keyboard(browser, live_server, applicant, size):
    context = browser.new_context(locale="zh-CN", viewport={"width": size[0], "height": size[1]})
    page = context.new_page()
    page.set_default_timeout(20_000)
    base = live_server.url
    page.goto(f"{base}/accounts/login/")
    page.keyboard.type("keyboard1")  # the username field has the focus
    tab_to(page, "#id_password")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/applications/")
    page.locator("form:has(input[name=category][value=school]) button").focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/edit/")

    # The skip link is the first stop and lands in the main content.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    page.keyboard.press("Enter")
    assert (
        tab_to(
            page,
            "#application-form input:not([type=hidden]), #application-form select, "
            "#application-form textarea",
        )
        <= 3
    )

    # Every field reached by Tab is clear of the sticky bar.
    hidden = []
    for _ in range(80):
        page.evaluate("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
        if not page.evaluate(FOCUS_CLEAR):
            hidden.append(page.evaluate("document.activeElement.name || document.activeElement.id"))
        if page.evaluate("document.activeElement.value === 'submit'"):
            break
        page.keyboard.press("Tab")
    assert not hidden, f"under the sticky bar: {hidden}"

    # Submitting the empty form: one alert, the errors tied to their fields, focus on the first.
    page.keyboard.press("Enter")
    page.wait_for_selector("#error-summary")
    page.wait_for_load_state("load")
    page.evaluate("new Promise(r => setTimeout(r, 0))")
    assert page.locator("[role=alert]").count() == 1
    invalid = page.locator("[aria-invalid=true]")
    assert invalid.count() >= 3
    for i in range(invalid.count()):
        ids = (invalid.nth(i).get_attribute("aria-describedby") or "").split()
        assert ids, invalid.nth(i).get_attribute("name")
        texts = [page.locator(f"#{x}").inner_text().strip() for x in ids]
        assert any(texts), ids
    first = page.evaluate(
        "document.activeElement === document.querySelector('[aria-invalid=true]')"
    )
    assert first, page.evaluate("document.activeElement.outerHTML.slice(0, 200)")
    assert page.evaluate(FOCUS_CLEAR)
    context.close()
