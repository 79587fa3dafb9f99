#!/usr/bin/python3
"""mime_parse.py - parse messages built by mime_build with Python's email package
and check that what comes out is what went in.

usage: mime_parse.py EXPECTED.json
EXPECTED.json: {"cases": [{"file", "subject", "from_name", "from_addr", "to_name",
"to_addr", "text", "html" (null: none), "single_part"}]}; files are relative to
the JSON file's directory. Exit 0 when every case matches, 1 otherwise.
"""
import email
import email.policy
from email.header import decode_header, make_header
import json
import os
import re
import sys


def raw_phrase(head, field):
    """The unfolded display-name part of header FIELD in the raw HEAD, or None."""
    for line in re.split(rb"\r\n(?![ \t])", head):
        name, _, value = line.partition(b":")
        if name.decode("ascii").lower() == field.lower():
            value = re.sub(rb"\r\n([ \t])", rb"\1", value).decode("ascii").strip()
            return value.rsplit("<", 1)[0].strip() if value.endswith(">") else None
    return None


def norm(s):
    return s.replace("\r\n", "\n")


def check_case(base, case):
    errors = []
    with open(os.path.join(base, case["file"]), "rb") as f:
        raw = f.read()
    if b"\n" in raw.replace(b"\r\n", b"") or b"\r" in raw.replace(b"\r\n", b""):
        errors.append("bare CR or LF")
    if any(len(line) > 998 for line in raw.split(b"\r\n")):
        errors.append("line over 998 octets")
    head = raw.split(b"\r\n\r\n", 1)[0]
    if any(len(line) > 78 for line in head.split(b"\r\n")):
        errors.append("header line over 78 columns")
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    for part in msg.walk():
        if part.defects:
            errors.append("defects: %r" % part.defects)

    def eq(what, got, want):
        if got != want:
            errors.append("%s: got %r, want %r" % (what, got, want))

    eq("subject", str(msg["Subject"]), case["subject"])
    for field, key in (("From", "from"), ("To", "to")):
        addr = msg[field].addresses[0]
        want = case[key + "_name"]
        eq(field + " address", addr.addr_spec, case[key + "_addr"])
        phrase = raw_phrase(head, field)
        if phrase is not None and "=?" in phrase:
            # RFC 2047 section 6.2: whitespace between encoded-words is dropped
            eq(field + " display name (RFC 2047)", str(make_header(decode_header(phrase))), want)
            # Python's phrase parser keeps that whitespace (a CPython bug), so a
            # name needing several encoded-words comes back with extra spaces
            # where the words were split; those splits are put at spaces
            eq(field + " display name", " ".join(addr.display_name.split()), " ".join(want.split()))
            if len(re.findall(r"=\?UTF-8\?", phrase)) == 1:
                eq(field + " display name (one word)", addr.display_name, want)
        else:
            eq(field + " display name", addr.display_name, want)

    text = msg.get_body(preferencelist=("plain",))
    if text is None:
        errors.append("no text/plain part")
    else:
        got, want = norm(text.get_content()), norm(case["text"])
        if case.get("single_part") and got == want + "\n":
            got = want  # the message's own final line break
        eq("text", got, want)
    if case["html"] is None:
        if msg.get_body(preferencelist=("html",)) is not None:
            errors.append("unexpected text/html part")
        eq("single part", msg.is_multipart(), False)
    else:
        html = msg.get_body(preferencelist=("html",))
        if html is None:
            errors.append("no text/html part")
        else:
            eq("html", norm(html.get_content()), norm(case["html"]))
        eq("content type", msg.get_content_type(), "multipart/alternative")
    return errors


def main():
    path = sys.argv[1]
    with open(path, encoding="utf-8") as f:
        spec = json.load(f)
    base = os.path.dirname(os.path.abspath(path))
    failed = 0
    for case in spec["cases"]:
        errors = check_case(base, case)
        for e in errors:
            print("%s: %s" % (case["file"], e))
        failed += bool(errors)
    print("%d of %d messages parsed back as built" % (len(spec["cases"]) - failed, len(spec["cases"])))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
