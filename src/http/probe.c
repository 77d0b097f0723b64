/*
 * Separate from http.c on purpose: those requests go to one API server
 * over one multiplexed connection with retries; these go once each to
 * many names, each on its own connection (no reuse, so every probe makes
 * its own handshake and shows its own certificate).
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "probe.h"
#include "../util/xmalloc.h"
#include "../version.h"
#include "../util/banned.h"

void
probe_init(struct probe *p)
{
	memset(p, 0, sizeof(*p));
	strbuf_init(&p->body, PROBE_BODY_MAX);
}

void
probe_release(struct probe *p)
{
	if (p->easy)
		curl_easy_cleanup(p->easy);
	strbuf_release(&p->body);
	free(p->leaf_pem);
	probe_init(p);
}

static size_t
on_body(char *data, size_t size, size_t n, void *arg)
{
	struct probe *p = arg;

	/* Past the cap the body is cut, not the probe failed. */
	strbuf_add(&p->body, data, size * n);
	return size * n;
}

/* The PEM of the first certificate of the chain curl saw. */
static void
take_cert(struct probe *p)
{
	struct curl_certinfo *ci = NULL;
	struct curl_slist *s;

	if (curl_easy_getinfo(p->easy, CURLINFO_CERTINFO, &ci) != CURLE_OK ||
	    ci == NULL || ci->num_of_certs < 1)
		return;
	for (s = ci->certinfo[0]; s; s = s->next)
		if (strncmp(s->data, "Cert:", 5) == 0) {
			p->leaf_pem = xstrdup(s->data + 5);
			return;
		}
}

int
probe_run(struct probe *const *p, size_t n, long long deadline_ms,
    struct s7_error *err)
{
	CURLM *multi;
	struct curl_slist **ct = xcalloc(n + 1, sizeof(*ct));
	long long start = http_now_ms();
	size_t i, left = 0;
	int running = 0;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    (multi = curl_multi_init()) == NULL) {
		free(ct);
		return s7_error(err, "cannot initialise libcurl");
	}
	for (i = 0; i < n; i++) {
		CURL *e = curl_easy_init();
		struct curl_blob blob;

		if (e == NULL) {
			snprintf(p[i]->error, sizeof(p[i]->error),
			    "cannot create a request");
			p[i]->done = 1;
			continue;
		}
		p[i]->easy = e;
		curl_easy_setopt(e, CURLOPT_URL, p[i]->url);
		curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "https,http");
		curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
		curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
		curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
		curl_easy_setopt(e, CURLOPT_ERRORBUFFER, p[i]->error);
		curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
		curl_easy_setopt(e, CURLOPT_WRITEDATA, p[i]);
		curl_easy_setopt(e, CURLOPT_PRIVATE, p[i]);
		curl_easy_setopt(e, CURLOPT_USERAGENT, "sector7-verify/" SECTOR7_VERSION);
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
		curl_easy_setopt(e, CURLOPT_CERTINFO, p[i]->want_cert ? 1L : 0L);
		if (p[i]->ca) {
			blob.data = (void *)p[i]->ca;
			blob.len = p[i]->ca_len;
			blob.flags = CURL_BLOB_COPY;
			curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &blob);
		}
		if (p[i]->connect_to) {
			ct[i] = curl_slist_append(NULL, p[i]->connect_to);
			curl_easy_setopt(e, CURLOPT_CONNECT_TO, ct[i]);
		}
		curl_multi_add_handle(multi, e);
		left++;
	}
	while (left > 0) {
		long long now = http_now_ms();
		CURLMsg *m;
		int q;

		curl_multi_perform(multi, &running);
		while ((m = curl_multi_info_read(multi, &q)) != NULL) {
			struct probe *x = NULL;

			if (m->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE,
			    (char **)&x);
			curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE,
			    &x->status);
			if (m->data.result != CURLE_OK) {
				if (x->error[0] == '\0')
					snprintf(x->error, sizeof(x->error), "%s",
					    curl_easy_strerror(m->data.result));
				x->status = 0;
			} else {
				x->error[0] = '\0';
				if (x->want_cert)
					take_cert(x);
			}
			x->ms = (long)(http_now_ms() - start);
			x->done = 1;
			curl_multi_remove_handle(multi, x->easy);
			left--;
		}
		if (left == 0 || now >= deadline_ms)
			break;
		curl_multi_poll(multi, NULL, 0,
		    (int)(deadline_ms - now < 200 ? deadline_ms - now : 200), NULL);
	}
	for (i = 0; i < n; i++) {
		if (!p[i]->done && p[i]->easy) {
			curl_multi_remove_handle(multi, p[i]->easy);
			p[i]->status = 0;
			p[i]->ms = (long)(http_now_ms() - start);
			snprintf(p[i]->error, sizeof(p[i]->error),
			    "no answer before the deadline (%ld ms)", p[i]->ms);
			p[i]->done = 1;
		}
		curl_slist_free_all(ct[i]);
	}
	free(ct);
	curl_multi_cleanup(multi);
	return 0;
}
