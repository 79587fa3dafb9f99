#!/usr/bin/python3
"""dkim_verify - verify every DKIM-Signature of messages with dkimpy.

    dkim_verify.py RECORDS.json MESSAGE... [--expect N]

RECORDS.json holds the zone-file lines postino prints for its keys, either a
list of lines or an object whose values are lines:

    sel._domainkey.example.com. IN TXT ( "v=DKIM1; k=rsa; ..." "...rest" )

The DNS lookups dkimpy makes are answered from these lines only (the
character-strings joined, as a resolver does). Each signature of each
message is verified on its own and reported on one line. Exit status: 0 when
every message has at least one signature (exactly N with --expect) and every
signature verifies, 1 otherwise, 2 on usage or unreadable input.
"""
import json
import re
import sys

import dkim

ZONE_LINE = re.compile(r'^\s*(\S+)\s+(?:\d+\s+)?IN\s+TXT\s+\(\s*((?:"(?:[^"\\]|\\.)*"\s*)+)\)\s*$')
STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')


def parse_zone_line(line):
    """Return (owner name, TXT value) of one zone-file line, or raise ValueError."""
    m = ZONE_LINE.match(line)
    if not m:
        raise ValueError("not a TXT zone line: %r" % line)
    parts = []
    for s in STRING.findall(m.group(2)):
        if len(s.replace('\\"', '"').replace('\\\\', '\\')) > 255:
            raise ValueError("character-string longer than 255 octets in %r" % m.group(1))
        parts.append(re.sub(r'\\(.)', r'\1', s))
    name = m.group(1).lower()
    if not name.endswith('.'):
        name += '.'
    return name, ''.join(parts)


def load_records(path):
    with open(path, encoding='utf-8') as f:
        data = json.load(f)
    lines = data.values() if isinstance(data, dict) else data
    return dict(parse_zone_line(line) for line in lines)


def verify_message(path, msg, records, expect):
    """Verify every signature of MSG; print one line each; return True if all pass."""
    def dnsfunc(name, timeout=5):
        if isinstance(name, bytes):
            name = name.decode('ascii')
        name = name.lower()
        if not name.endswith('.'):
            name += '.'
        txt = records.get(name)
        return txt.encode('ascii') if txt is not None else None

    count = sum(1 for k, _ in dkim.DKIM(msg).headers if k.lower() == b'dkim-signature')
    failed = 0
    for idx in range(count):
        d = dkim.DKIM(msg, minkey=1024)
        try:
            ok = d.verify(idx=idx, dnsfunc=dnsfunc)
            why = '' if ok else 'signature did not verify'
        except dkim.DKIMException as e:
            ok, why = False, str(e)
        sig = d.signature_fields or {}
        label = '%s: %d a=%s d=%s s=%s' % (path, idx, sig.get(b'a', b'?').decode(),
                                           sig.get(b'd', b'?').decode(), sig.get(b's', b'?').decode())
        print('%s: %s' % (label, 'pass' if ok else 'FAIL (%s)' % why))
        failed += not ok
    if count == 0:
        print('%s: FAIL: no DKIM-Signature' % path)
        return False
    if expect is not None and count != expect:
        print('%s: FAIL: %d signatures, expected %d' % (path, count, expect))
        return False
    return failed == 0


def main(argv):
    args = argv[1:]
    expect = None
    if '--expect' in args:
        i = args.index('--expect')
        expect = int(args[i + 1])
        del args[i:i + 2]
    if len(args) < 2:
        print('usage: dkim_verify.py RECORDS.json MESSAGE... [--expect N]', file=sys.stderr)
        return 2
    try:
        records = load_records(args[0])
        messages = []
        for path in args[1:]:
            with open(path, 'rb') as f:
                messages.append((path, f.read()))
    except (OSError, ValueError) as e:
        print("dkim_verify: %s" % e, file=sys.stderr)
        return 2
    results = [verify_message(path, msg, records, expect) for path, msg in messages]
    return 0 if all(results) else 1


if __name__ == '__main__':
    sys.exit(main(sys.argv))
