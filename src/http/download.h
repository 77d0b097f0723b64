/*
 * Downloads of whole files over HTTPS, several at a time: the second of
 * the two modules that include libcurl (http.c talks to the API server).
 *
 * Each file goes to its own partial file (dl_file.part), never to its
 * final place: the caller verifies the bytes and renames the file into
 * place.  A transfer that breaks off is tried again from where it
 * stopped (an HTTP Range request; a server that ignores the range sends
 * the whole file and the partial file is started over), and a partial
 * file left by an earlier run is continued the same way.  Redirects are
 * followed; TLS is always verified, against the system's trust anchors
 * or a given CA file.
 *
 * The caller owns the dl_file array and every string it points to;
 * download_all fills in the results.
 */
#ifndef S7_DOWNLOAD_H
#define S7_DOWNLOAD_H

#include "../util/error.h"

struct dl_file {
	/* what to fetch (not owned) */
	const char *url;
	const char *part;	/* the partial file: created, or continued */
	long long max_size;	/* refuse anything larger */

	/* what happened */
	int ok;			/* the whole body is in part */
	long long size;		/* bytes in part */
	long long total;	/* the size the server announced, or -1 */
	long long resumed_at;	/* the last attempt continued from here (0: no) */
	int attempts;
	long status;		/* of the last response, 0: none */
	char errmsg[320];	/* why not ok */

	/* progress, updated while running */
	long long now;
	int active;
};

struct dl_opts {
	const char *cacert;	/* PEM trust anchors, NULL: the system's */
	int parallel;		/* transfers at once (at least 1) */
	int attempts;		/* per file (at least 1) */
	int allow_http;		/* plain http:// too (a mirror on the LAN) */
	long stall_ms;		/* give up on a transfer silent this long */
	/* called about ten times a second while transfers run, or NULL */
	void (*progress)(void *arg, const struct dl_file *files, size_t n);
	void *arg;
};

/*
 * Fetches every file, at most o->parallel at a time.  Returns 0 when the
 * transfers could be run at all (each file's own outcome is in its ok and
 * errmsg), -1 with err set when libcurl could not be set up.
 */
int download_all(struct dl_file *files, size_t n, const struct dl_opts *o,
    struct s7_error *err);

/* libcurl's version and TLS library, for messages. */
const char *download_version(void);

#endif
