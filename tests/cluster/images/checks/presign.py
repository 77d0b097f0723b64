#!/usr/bin/env python3
"""Presigned S3 URL (AWS Signature Version 4, query string, path style).

    presign.py METHOD http://HOST:PORT/BUCKET/KEY ACCESS_KEY SECRET_KEY [REGION] [EXPIRES]

The secret key is read from the environment variable S3_SECRET when the
argument is "-" (so it stays out of the process list).
"""
import datetime
import hashlib
import hmac
import os
import sys
from urllib.parse import quote, urlsplit


def q(s):
    return quote(s, safe="-_.~")


def sign(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def presign(method, url, access, secret, region="us-east-1", expires=300, now=None):
    u = urlsplit(url)
    now = now or datetime.datetime.now(datetime.timezone.utc)
    amzdate = now.strftime("%Y%m%dT%H%M%SZ")
    day = now.strftime("%Y%m%d")
    scope = "%s/%s/s3/aws4_request" % (day, region)
    params = {
        "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
        "X-Amz-Credential": "%s/%s" % (access, scope),
        "X-Amz-Date": amzdate,
        "X-Amz-Expires": str(expires),
        "X-Amz-SignedHeaders": "host",
    }
    query = "&".join("%s=%s" % (q(k), q(v)) for k, v in sorted(params.items()))
    canonical = "\n".join([method, quote(u.path, safe="/-_.~"), query,
                           "host:%s\n" % u.netloc, "host", "UNSIGNED-PAYLOAD"])
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amzdate, scope,
                         hashlib.sha256(canonical.encode()).hexdigest()])
    k = sign(("AWS4" + secret).encode(), day)
    for part in (region, "s3", "aws4_request"):
        k = sign(k, part)
    sig = hmac.new(k, to_sign.encode(), hashlib.sha256).hexdigest()
    return "%s://%s%s?%s&X-Amz-Signature=%s" % (u.scheme, u.netloc, u.path, query, sig)


if __name__ == "__main__":
    a = sys.argv[1:]
    if len(a) < 4:
        sys.exit(__doc__)
    secret = os.environ["S3_SECRET"] if a[3] == "-" else a[3]
    print(presign(a[0], a[1], a[2], secret, *(a[4:5] or ["us-east-1"]),
                  *([int(a[5])] if len(a) > 5 else [])))
