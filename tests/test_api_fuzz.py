"""Property-based requests against the API: whatever a client sends, the answer is never a 5xx."""

from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ROUTES = ["/api/search", "/api/themes", "/healthz", "/", "/api/documents/{x}", "/dokument/{x}", "/tema/{x}",
          "/filer/{x}"]
PARAMS = ["q", "theme", "content_type", "audience", "language", "k", "offset", "explain", "side", "avsnitt"]
text = st.one_of(
    st.text(max_size=60),
    st.sampled_from(['"', "AND (", "tittel:mobbing", "*", "~", "mobbing", "selvskading", "10", "-1", "true",
                     "../../etc/passwd", "%00", "<script>", "ÆØÅ", "\u202e", "🙂", "x" * 1200]),
    st.integers(-10**6, 10**6).map(str),
)
query = st.lists(st.tuples(st.sampled_from(PARAMS), text), max_size=5)
calls = {"n": 0}


@pytest.mark.slow
@settings(max_examples=1100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                     HealthCheck.too_slow])
@given(route=st.sampled_from(ROUTES), segment=text, params=query)
def test_no_request_produces_a_server_error(client, route, segment, params):
    path = route.replace("{x}", quote(segment, safe="") or "x")
    r = client.get(path, params=params)
    calls["n"] += 1
    assert r.status_code < 500, (path, params, r.text[:300])
    if r.status_code == 400:
        # the API names the parameter in English, the page in bokmål
        assert any(m in r.text for m in ("Parameter", "Invalid", "Ukjent filterverdi", "Sidetallet",
                                         "Spørsmålet er", "Søket er tomt")), r.text[:300]


def test_fuzz_ran_enough_requests():
    """Runs after the property test (file order): it really sent the ≥ 1,000 requests the issue asks for."""
    if calls["n"] == 0:
        pytest.skip("the property test did not run in this session")
    assert calls["n"] >= 1000
