"""The messages posted to Intercom: texts per language, escaping, the marker."""

from __future__ import annotations

from itop_intercom.sync.back import render


def test_status_note_in_french_with_the_solution() -> None:
    body = render.status_body("R-000042", "resolved", "<p>Toner <b>changé</b></p>", "fr")
    assert body == (
        "<p>R-000042 est maintenant Résolu</p><p>Solution :</p><p>Toner <b>changé</b></p>"
    )


def test_unknown_status_codes_are_shown_readably_and_no_solution_before_resolution() -> None:
    body = render.status_body("R-1", "waiting_for_parts", "<p>not yet</p>", "en")
    assert body == "<p>R-1 is now Waiting for parts</p>"


def test_author_name_and_reference_are_escaped_and_the_marker_is_in_the_link() -> None:
    payload = {
        "body": "<p>hi</p>",
        "author_name": "<script>x</script> & Co",
        "ticket_ref": "R-<1>",
        "ticket_url": 'https://itop.example/pages/UI.php?a=1&b="2"',
    }
    body = render.final_body(payload, 77, "reply", attributed=False, language="en")
    assert body.startswith("<p><strong>&lt;script&gt;x&lt;/script&gt; &amp; Co wrote in iTop:")
    assert (
        '<a href="https://itop.example/pages/UI.php?a=1&amp;b=&quot;2&quot;#itop-77-reply">' in body
    )
    assert ">R-&lt;1&gt;</a>" in body
    assert render.marker(77, "reply") in body


def test_the_author_is_not_named_when_the_admin_is_them() -> None:
    payload = {"body": "<p>hi</p>", "author_name": "Victor Hugo", "ticket_ref": "R-1"}
    body = render.final_body(payload, 5, "reply", attributed=True, language="en")
    assert body.startswith("<p>hi</p>")
