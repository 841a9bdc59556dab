#!/usr/bin/env python3
"""Writes the sample received reports of tests/data/inreports (made-up senders and data).

Run from this directory; the output is deterministic (gzip mtime 0), and committed.
Each sample imitates one way real senders package reports (reference section 5)."""
import base64, gzip, json, quopri

D1, D2, D3 = "2026-11-19", "2026-11-20", "2026-11-21"


def gz(data):
    return gzip.compress(data.encode() if isinstance(data, str) else data, mtime=0)


def b64(data):
    s = base64.b64encode(data).decode()
    return "\n".join(s[i:i + 76] for i in range(0, len(s), 76))


def sts(domain, mode="enforce", mx=("mx1.example.com", "mx2.example.com")):
    return {"policy-type": "sts",
            "policy-string": ["version: STSv1", "mode: " + mode] + ["mx: " + m for m in mx]
            + ["max_age: 604800"],
            "policy-domain": domain, "mx-host": list(mx)}


def report(org, contact, rid, day, policies, start_fmt="{}T00:00:00Z", end=None):
    return {"organization-name": org,
            "date-range": {"start-datetime": start_fmt.format(day),
                           "end-datetime": end or day + "T23:59:59Z"},
            "contact-info": contact, "report-id": rid, "policies": policies}


def message(submitter, domain, rid, parts, top='multipart/report; report-type="tlsrpt"',
            boundary="----=_Part_0_1234", extra_headers=""):
    out = ["From: TLS reports <noreply-tlsrpt@{}>".format(submitter),
           "To: tlsrpt@example.com",
           "Subject: Report Domain: {} Submitter: {} Report-ID: <{}>".format(domain, submitter, rid),
           "Date: Sat, 21 Nov 2026 10:12:13 +0000",
           "Message-ID: <{}@{}>".format(rid.strip("<>").replace("@", "."), submitter),
           "MIME-Version: 1.0",
           "TLS-Report-Domain: " + domain,
           "TLS-Report-Submitter: " + submitter]
    if extra_headers:
        out.append(extra_headers)
    out.append("Content-Type: {};\n\tboundary=\"{}\"".format(top, boundary))
    out.append("")
    out.append("This is a multi-part message in MIME format.")
    for p in parts:
        out.append("--" + boundary)
        out.append(p)
    out.append("--" + boundary + "--")
    out.append("")
    return "\n".join(out)


TEXT = ("Content-Type: text/plain; charset=UTF-8\n\n"
        "This is an aggregate TLS report from {}.\n")


def gz_part(obj_or_bytes, name, ctype="application/tlsrpt+gzip"):
    data = obj_or_bytes if isinstance(obj_or_bytes, bytes) else gz(json.dumps(obj_or_bytes))
    return ("Content-Type: {}; name=\"{}\"\nContent-Transfer-Encoding: base64\n"
            "Content-Disposition: attachment; filename=\"{}\"\n\n{}".format(ctype, name, name, b64(data)))


def write(name, text):
    with open(name, "w", newline="") as f:
        f.write(text.replace("\n", "\r\n"))


def fname(sub, dom, day, rid):
    return "{}!{}!{}!{}!{}.json.gz".format(sub, dom, day.replace("-", ""), "0", rid)


# Google-style: quoted report-type, gzip + base64, mx-host array, Z times.
g3 = report("Giant Mail Inc.", "smtp-tls-reporting@giant.example", "2026-11-21T00:00:00Z_example.com", D3, [
    {"policy": sts("example.com"),
     "summary": {"total-successful-session-count": 5290, "total-failure-session-count": 37},
     "failure-details": [{"result-type": "certificate-expired", "sending-mta-ip": "192.0.2.10",
                          "receiving-mx-hostname": "mx2.example.com", "receiving-ip": "198.51.100.25",
                          "failed-session-count": 37}]}])
write("google.eml", message("giant.example", "example.com", g3["report-id"],
                            [TEXT.format("Giant Mail Inc."), gz_part(g3, fname("giant.example", "example.com", D3, "1"))]))
g2 = report("Giant Mail Inc.", "smtp-tls-reporting@giant.example", "2026-11-20T00:00:00Z_example.com", D2, [
    {"policy": sts("example.com"),
     "summary": {"total-successful-session-count": 5100, "total-failure-session-count": 0}}])
write("google-prev.eml", message("giant.example", "example.com", g2["report-id"],
                                 [TEXT.format("Giant Mail Inc."), gz_part(g2, fname("giant.example", "example.com", D2, "1"))]))

# Microsoft-style: unquoted report-type, no Z, end at next day 00:00, mx-host a string,
# TLSA policy-string as ONE element holding a JSON-encoded array.
tlsa = json.dumps(["3 1 1 0C72AC70B745AC19998811B131D662C9AC69DBDBE7CB23E5B514B56664C5D3D6",
                   "3 1 1 1F85A2A1C0FB4E9A4D2C3B0E9D8C7B6A5F4E3D2C1B0A9F8E7D6C5B4A3F2E1D0C"])
m3 = report("Bigsoft Corporation", "tlsrpt-noreply@bigsoft.example", "133457280000000000+example.com", D3, [
    {"policy": {"policy-type": "sts", "policy-string": ["version: STSv1", "mode: enforce",
                "mx: mx1.example.com", "mx: mx2.example.com", "max_age: 604800"],
                "policy-domain": "example.com", "mx-host": "mx2.example.com"},
     "summary": {"total-successful-session-count": 812, "total-failure-session-count": 12},
     "failure-details": [{"result-type": "certificate-expired", "sending-mta-ip": "203.0.113.7",
                          "receiving-mx-hostname": "mx2.example.com", "receiving-mx-helo": "mx2.example.com",
                          "receiving-ip": "198.51.100.25", "failed-session-count": 12}]},
    {"policy": {"policy-type": "tlsa", "policy-string": [tlsa], "policy-domain": "mx1.example.com"},
     "summary": {"total-successful-session-count": 40, "total-failure-session-count": 0}}],
    start_fmt="{}T00:00:00", end="2026-11-22T00:00:00")
write("microsoft.eml", message("bigsoft.example", "example.com", m3["report-id"],
                               [TEXT.format("Bigsoft"), gz_part(m3, "bigsoft.example!example.com!1795219200!1795305599!133457280000000000.json.gz")],
                               top="multipart/report; report-type=tlsrpt", boundary="_000_BIGSOFT_").replace(
                                   "Report-ID: <133457280000000000+example.com>", "Report-ID: 133457280000000000+example.com"))
m2 = report("Bigsoft Corporation", "tlsrpt-noreply@bigsoft.example", "133456416000000000+example.com", D2, [
    {"policy": {"policy-type": "sts", "policy-string": ["version: STSv1", "mode: enforce",
                "mx: mx1.example.com", "mx: mx2.example.com", "max_age: 604800"],
                "policy-domain": "example.com", "mx-host": ["mx1.example.com", "mx2.example.com"]},
     "summary": {"total-successful-session-count": 790, "total-failure-session-count": 0}}],
    end="2026-11-20T23:59:59Z")
write("microsoft-tz.eml", message("bigsoft.example", "example.com", m2["report-id"],
                                  [TEXT.format("Bigsoft"), gz_part(m2, "bigsoft.example!example.com!x.json.gz")],
                                  top="multipart/report; report-type=tlsrpt", boundary="_000_BIGSOFT_"))

# Empty strings everywhere, a no-policy-found without policy-domain, failure details
# without IP or MX fields.
e = report("Small Sender", "", "small-1", D3, [
    {"policy": {"policy-type": "no-policy-found", "policy-string": [], "mx-host": []},
     "summary": {"total-successful-session-count": 9, "total-failure-session-count": 3},
     "failure-details": [{"result-type": "starttls-not-supported", "sending-mta-ip": "",
                          "receiving-mx-hostname": "", "receiving-ip": "", "failed-session-count": 2,
                          "additional-information": "", "failure-reason-code": ""},
                         {"result-type": "starttls-not-supported", "failed-session-count": 1}]}])
write("empty-strings.eml", message("small.example", "example.org", "small-1",
                                   [TEXT.format("Small Sender"), gz_part(e, "small.json.gz")]))
n = report("Null Contact Mailer", None, "nullc-7", D3, [
    {"policy": {"policy-type": "sts", "policy-string": ["version: STSv1", "mode: enforce", "mx: mx1.example.org",
                "max_age: 86400"], "policy-domain": "example.org"},
     "summary": {"total-successful-session-count": 100, "total-failure-session-count": 0}}])
write("null-contact.eml", message("nullc.example", "example.org", "nullc-7",
                                  [TEXT.format("Null Contact"), gz_part(n, "nullc.json.gz")]))

# Uncompressed JSON, 7bit; an STS policy in testing mode with failures enforce would bounce.
t = report("Plain Json Mail", "mailto:tls@plain.example", "plain-2026-11-21", D3, [
    {"policy": sts("example.net", "testing", ("mx.example.net",)),
     "summary": {"total-successful-session-count": 50, "total-failure-session-count": 4},
     "failure-details": [{"result-type": "certificate-host-mismatch", "sending-mta-ip": "192.0.2.44",
                          "receiving-mx-hostname": "mx.example.net", "receiving-ip": "198.51.100.80",
                          "failed-session-count": 4}]}])
write("json-plain.eml", message("plain.example", "example.net", "plain-2026-11-21",
                                [TEXT.format("Plain"), "Content-Type: application/tlsrpt+json\n\n" + json.dumps(t, indent=1)]))

# Nested multipart: the report inside a multipart/mixed, STS policy fetch failures.
f = report("Nested Mailer", "reports@nested.example", "nested-42", D3, [
    {"policy": {"policy-type": "sts", "policy-string": [], "policy-domain": "example.org"},
     "summary": {"total-successful-session-count": 0, "total-failure-session-count": 17},
     "failure-details": [{"result-type": "sts-policy-fetch-error", "failed-session-count": 17,
                          "failure-reason-code": "HTTP 404"}]}])
inner = message("nested.example", "example.org", "nested-42",
                [TEXT.format("Nested"), gz_part(f, "nested.json.gz")], boundary="inner-b").split("\n")
head = inner[:inner.index("")]
ct = head.index(next(l for l in head if l.startswith("Content-Type: multipart")))
inner_part = head[ct] + "\n" + head[ct + 1] + "\n\n" + "\n".join(inner[inner.index("") + 1:])
write("nested.eml", message("nested.example", "example.org", "nested-42",
                            ["Content-Type: text/plain\n\nSee the attached report.\n", inner_part],
                            top="multipart/mixed", boundary="outer-b"))

# Quoted-printable JSON.
q = report("QP Mailer", "tlsrpt@qp.example", "qp=1", D3, [
    {"policy": sts("example.com", mx=("mx1.example.com",)),
     "summary": {"total-successful-session-count": 64, "total-failure-session-count": 1},
     "failure-details": [{"result-type": "validation-failure", "receiving-mx-hostname": "mx1.example.com",
                          "receiving-ip": "198.51.100.24", "failed-session-count": 1,
                          "failure-reason-code": "X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY"}]}])
write("qp.eml", message("qp.example", "example.com", "qp=1",
                        [TEXT.format("QP"), "Content-Type: application/tlsrpt+json\nContent-Transfer-Encoding: quoted-printable\n\n"
                         + quopri.encodestring(json.dumps(q).encode()).decode()]))

# A bare report: the message itself is the application/tlsrpt+gzip part, no multipart.
b = report("Bare Mailer", "tlsrpt@bare.example", "bare-3", D3, [
    {"policy": sts("example.com", mx=("mx1.example.com",)),
     "summary": {"total-successful-session-count": 21, "total-failure-session-count": 0}}])
write("bare-gzip.eml", message("bare.example", "example.com", "bare-3", []).split("Content-Type:")[0]
      + gz_part(b, "bare.example!example.com!20261121!0!3.json.gz") + "\n")

# Broken ones: a gzip bomb (64 MiB of spaces), a truncated gzip, invalid JSON.
write("bomb.eml", message("bomb.example", "example.com", "bomb",
                          [TEXT.format("Bomb"), gz_part(gz(b"{" + b" " * (64 << 20) + b"}"), "bomb.json.gz")]))
full = gz(json.dumps(g3))
write("truncated-gzip.eml", message("giant.example", "example.com", "trunc",
                                    [TEXT.format("Truncated"), gz_part(full[:len(full) // 2], "trunc.json.gz")]))
write("invalid-json.eml", message("broken.example", "example.com", "broken",
                                  [TEXT.format("Broken"), gz_part(gz('{"organization-name": "Broken", "policies": [ {'), "broken.json.gz")]))

# 1,000 policies in one report.
many = report("Many Policies Mailer", "tlsrpt@many.example", "many-1000", D1, [
    {"policy": sts("d{}.many.example".format(i), mx=("mx.many.example",)),
     "summary": {"total-successful-session-count": i, "total-failure-session-count": i % 3},
     **({"failure-details": [{"result-type": "certificate-not-trusted", "receiving-mx-hostname": "mx.many.example",
                              "receiving-ip": "198.51.100.99", "failed-session-count": i % 3}]} if i % 3 else {})}
    for i in range(1000)])
write("many-policies.eml", message("many.example", "many.example", "many-1000",
                                   [TEXT.format("Many"), gz_part(many, "many.json.gz")]))

# Ordinary mail: plain text, and a multipart/mixed with a non-report attachment.
write("plain.eml", "From: alice@sender.example\nTo: tlsrpt@example.com\nSubject: hello\n"
      "Message-ID: <hello-1@sender.example>\nDate: Sat, 21 Nov 2026 10:12:13 +0000\n\nJust a note, not a report.\n")
write("mixed-ordinary.eml", message("sender.example", "example.com", "x",
                                    ["Content-Type: text/plain\n\nThe minutes.\n",
                                     "Content-Type: application/pdf; name=\"minutes.pdf\"\nContent-Transfer-Encoding: base64\n\n"
                                     + b64(b"%PDF-1.4 not really")], top="multipart/mixed").replace("TLS-Report", "X-Not-Report"))

# Bare files for ingest.
with open("report.json", "w") as fp:
    json.dump(g2, fp, indent=2)
with open("report.json.gz", "wb") as fp:
    fp.write(gz(json.dumps(m2)))
