/*
 * Certificates read with OpenSSL: the leaf the ingress presented, or the
 * tls.crt of a Secret.  Only the first certificate of a PEM text counts.
 */
#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "../util/banned.h"

static X509 *
read_first(const char *pem, size_t len)
{
	BIO *b = BIO_new_mem_buf(pem, (int)len);
	X509 *x;

	if (b == NULL)
		return NULL;
	x = PEM_read_bio_X509(b, NULL, NULL, NULL);
	BIO_free(b);
	return x;
}

int
cert_parse(const char *pem, size_t len, struct cert_info *ci,
    struct s7_error *err)
{
	X509 *x = read_first(pem, len);
	struct tm tm;

	memset(ci, 0, sizeof(*ci));
	if (x == NULL)
		return s7_error(err, "not a PEM certificate");
	memset(&tm, 0, sizeof(tm));
	if (ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) != 1) {
		X509_free(x);
		return s7_error(err, "the certificate's notAfter cannot be read");
	}
	ci->not_after = timegm(&tm);
	X509_NAME_oneline(X509_get_subject_name(x), ci->subject,
	    (int)sizeof(ci->subject));
	X509_NAME_oneline(X509_get_issuer_name(x), ci->issuer,
	    (int)sizeof(ci->issuer));
	X509_free(x);
	return 0;
}

int
cert_matches_host(const char *pem, size_t len, const char *host)
{
	X509 *x = read_first(pem, len);
	int ok;

	if (x == NULL)
		return 0;
	ok = X509_check_host(x, host, strlen(host), 0, NULL) == 1;
	X509_free(x);
	return ok;
}
