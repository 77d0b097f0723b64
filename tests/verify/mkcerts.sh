#!/bin/sh
# Test certificates for the HTTPS probes: a CA, leaf certificates signed
# by it (one valid 90 days per host given, one valid 2 days for
# soon.test.example), and a second CA nobody trusts with a leaf of its own.
#   tests/verify/mkcerts.sh DIR HOST...
set -eu
d=$1; shift
mkdir -p "$d"
cd "$d"
q() { "$@" >/dev/null 2>&1; }
q openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
	-subj "/CN=sector7 test CA" -keyout ca.key -out ca.crt \
	-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign
q openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
	-subj "/CN=someone else's CA" -keyout other-ca.key -out other-ca.crt \
	-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign
leaf() {	# leaf NAME HOST DAYS CA
	q openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$2" \
		-keyout "$1.key" -out "$1.csr"
	printf 'subjectAltName=DNS:%s\nextendedKeyUsage=serverAuth\n' "$2" >"$1.ext"
	q openssl x509 -req -in "$1.csr" -CA "$4.crt" -CAkey "$4.key" -CAcreateserial \
		-days "$3" -extfile "$1.ext" -out "$1.crt"
	rm -f "$1.csr" "$1.ext"
}
for h in "$@"; do leaf "$h" "$h" 90 ca; done
leaf soon.test.example soon.test.example 2 ca
leaf stranger.test.example stranger.test.example 90 other-ca
