"""Control characters in a page: dropped before lxml (which refuses them), whatever the input."""

from extract.parse import parse_html

BODY = "<html><body><p>Prima riga{ctl} del testo, seconda parte.</p></body></html>"


def test_control_bytes_in_raw_bytes_are_dropped():
    data = BODY.format(ctl="\x0b\x1f\x00").encode("utf-8")
    root = parse_html(data, None, 10**6)
    assert root is not None
    assert root.findtext(".//p") == "Prima riga del testo, seconda parte."


def test_control_characters_in_text_input_are_dropped():
    root = parse_html(BODY.format(ctl="\x08"), None, 10**6)
    assert root is not None
    assert root.findtext(".//p") == "Prima riga del testo, seconda parte."


def test_a_page_without_control_bytes_keeps_its_text():
    data = BODY.format(ctl=" è ü 日本").encode("utf-8")
    assert parse_html(data, "utf-8", 10**6).findtext(".//p") == (
        "Prima riga è ü 日本 del testo, seconda parte.")


def test_utf16_page_with_its_nul_bytes_parses():
    data = "\ufeff".encode("utf-16-le") + BODY.format(ctl="").encode("utf-16-le")
    root = parse_html(data, None, 10**6)
    assert root is not None
    assert root.findtext(".//p") == "Prima riga del testo, seconda parte."
