#!/usr/bin/python3
"""provider_hooks - keys, certificates and signed webhook messages for test_bounce_hooks.sh.

  provider_hooks.py init DIR
      a test CA (ca.pem) and its certificate for sns.amazonaws.com at
      DIR/certs/SimpleNotificationService-test.pem; another CA's certificate for the
      same key at DIR/certs/SimpleNotificationService-forged.pem; SendGrid's key pair
      (sendgrid.key, sendgrid.pub as SendGrid shows it: base64 DER); Mailgun's signing
      key (mailgun.key); Postmark's password (postmark.pw)
  provider_hooks.py ses DIR FIXTURE OUT [--id ID] [--age S] [--cert NAME] [--topic ARN]
                        [--version 1|2] [--tamper] [--type SubscriptionConfirmation]
      an SNS Notification whose Message is FIXTURE's text, signed, into OUT
  provider_hooks.py sendgrid DIR FIXTURE OUT [--age S] [--tamper] [--key FILE]
      FIXTURE signed; prints the signature and timestamp headers' values, one a line
  provider_hooks.py mailgun DIR FIXTURE OUT [--age S] [--token T] [--key TEXT]
      FIXTURE with a new signature object
"""
import argparse
import base64
import datetime
import hashlib
import hmac
import json
import os
import secrets
import sys
import time

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID


def pem_write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def ca(name):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subj = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subj).issuer_name(subj).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    return key, cert


def leaf(ca_key, ca_cert, key):
    now = datetime.datetime.now(datetime.timezone.utc)
    return (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com")]))
            .issuer_name(ca_cert.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("sns.amazonaws.com")]), critical=False)
            .sign(ca_key, hashes.SHA256()))


def init(d):
    os.makedirs(os.path.join(d, "certs"), exist_ok=True)
    ca_key, ca_cert = ca("Test SNS CA")
    other_key, other_cert = ca("Another CA")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem_write(os.path.join(d, "ca.pem"), ca_cert.public_bytes(serialization.Encoding.PEM))
    pem_write(os.path.join(d, "sns.key"), key.private_bytes(serialization.Encoding.PEM,
              serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    pem_write(os.path.join(d, "certs", "SimpleNotificationService-test.pem"),
              leaf(ca_key, ca_cert, key).public_bytes(serialization.Encoding.PEM))
    pem_write(os.path.join(d, "certs", "SimpleNotificationService-forged.pem"),
              leaf(other_key, other_cert, key).public_bytes(serialization.Encoding.PEM))
    sg = ec.generate_private_key(ec.SECP256R1())
    pem_write(os.path.join(d, "sendgrid.key"), sg.private_bytes(serialization.Encoding.PEM,
              serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    der = sg.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    pem_write(os.path.join(d, "sendgrid.pub"), base64.b64encode(der) + b"\n")
    pem_write(os.path.join(d, "mailgun.key"), ("key-" + secrets.token_hex(16) + "\n").encode())
    pem_write(os.path.join(d, "postmark.pw"), (secrets.token_urlsafe(18) + "\n").encode())


def sns_string(m):
    names = (["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"] if m["Type"] == "Notification"
             else ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"])
    return "".join(f"{n}\n{m[n]}\n" for n in names if n in m).encode()


def ses(a):
    with open(a.fixture) as f:
        message = f.read()
    ts = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=a.age)
    m = {"Type": a.type, "MessageId": a.id or secrets.token_hex(16), "TopicArn": a.topic, "Message": message,
         "Timestamp": ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z",
         "SignatureVersion": a.version,
         "SigningCertURL": f"https://sns.us-east-1.amazonaws.com/SimpleNotificationService-{a.cert}.pem"}
    if a.type == "SubscriptionConfirmation":
        m["Token"] = secrets.token_hex(32)
        m["SubscribeURL"] = ("https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn="
                             + a.topic + "&Token=" + m["Token"])
        m["Message"] = "You have chosen to subscribe to the topic " + a.topic + "."
    else:
        m["UnsubscribeURL"] = "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=" + a.topic
    with open(os.path.join(a.dir, "sns.key"), "rb") as f:
        key = serialization.load_pem_private_key(f.read(), None)
    md = hashes.SHA1() if a.version == "1" else hashes.SHA256()
    m["Signature"] = base64.b64encode(key.sign(sns_string(m), padding.PKCS1v15(), md)).decode()
    if a.tamper:
        m["Message"] = m["Message"].replace("example.org", "example.net")
    with open(a.out, "w") as f:
        json.dump(m, f, indent=2)


def sendgrid(a):
    with open(a.fixture, "rb") as f:
        body = f.read()
    ts = str(int(time.time()) - a.age)
    with open(a.key or os.path.join(a.dir, "sendgrid.key"), "rb") as f:
        key = serialization.load_pem_private_key(f.read(), None)
    sig = base64.b64encode(key.sign(ts.encode() + body, ec.ECDSA(hashes.SHA256()))).decode()
    if a.tamper:
        body = body.replace(b"sg-hard", b"sg-soft")
    with open(a.out, "wb") as f:
        f.write(body)
    print(sig)
    print(ts)


def mailgun(a):
    with open(a.fixture) as f:
        body = json.load(f)
    key = a.key or open(os.path.join(a.dir, "mailgun.key")).read().strip()
    ts = str(int(time.time()) - a.age)
    token = a.token or secrets.token_hex(25)
    body["signature"] = {"timestamp": ts, "token": token,
                         "signature": hmac.new(key.encode(), (ts + token).encode(), hashlib.sha256).hexdigest()}
    with open(a.out, "w") as f:
        json.dump(body, f, indent=2)


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    i = sub.add_parser("init")
    i.add_argument("dir")
    for name in ("ses", "sendgrid", "mailgun"):
        s = sub.add_parser(name)
        s.add_argument("dir")
        s.add_argument("fixture")
        s.add_argument("out")
        s.add_argument("--age", type=int, default=0)
        s.add_argument("--key")
        s.add_argument("--tamper", action="store_true")
        s.add_argument("--id")
        s.add_argument("--token")
        s.add_argument("--cert", default="test")
        s.add_argument("--topic", default="arn:aws:sns:us-east-1:123456789012:ses-bounces")
        s.add_argument("--version", default="2")
        s.add_argument("--type", default="Notification")
    a = p.parse_args()
    {"init": lambda: init(a.dir), "ses": lambda: ses(a), "sendgrid": lambda: sendgrid(a),
     "mailgun": lambda: mailgun(a)}[a.cmd]()


if __name__ == "__main__":
    sys.exit(main())
