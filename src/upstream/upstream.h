/*
 * The upstream cache: every release manifest the catalog pins (url,
 * sha256, file), where render reads them from, and how they get there.
 *
 * The cache is a directory laid out as <file> of each pin (e.g.
 * metallb/v0.16.1/metallb-native.yaml).  A file is in the cache only
 * once its sha256 matched the pin: downloads and copies go to
 * <cache>/.partial/<sha256> first and are renamed into place after the
 * check, so a reader never sees a half-written or unverified file.  A
 * partial file left by a transfer that broke off is continued by the
 * next fetch.  <cache>/.partial/lock keeps two fetches from writing the
 * same partial file.
 *
 * A struct up_set owns its entries (and the strings in them); the
 * catalog it was listed from must outlive it.
 */
#ifndef S7_UPSTREAM_H
#define S7_UPSTREAM_H

#include <stddef.h>

#include "../catalog/catalog.h"
#include "../util/error.h"

/* No pinned file may be larger (render reads them whole). */
#define UPSTREAM_FILE_MAX ((long long)64 * 1024 * 1024)

enum up_state {
	UP_MISSING,	/* not in the cache */
	UP_PRESENT,	/* there, sha256 as pinned */
	UP_WRONG,	/* there, another sha256 (replaced by a fetch) */
};

enum up_result { UP_ALREADY, UP_FETCHED, UP_FAILED };

struct up_entry {
	const struct upstream_src *src;
	const char *component;
	char *path;		/* <cache>/<file> */
	char *part;		/* <cache>/.partial/<sha256> */
	enum up_state state;
	char have[65];		/* UP_WRONG: the sha256 found */
	enum up_result result;
	long long bytes;	/* fetched (or present) size */
	long long resumed_at;	/* continued a partial file from this byte */
	int attempts;
	char why[1280];		/* UP_FAILED: what went wrong */
};

struct up_set {
	char *cache;
	struct up_entry *v;
	size_t n;
};

/* Progress of a fetch: files done so far, bytes so far and expected. */
struct up_progress {
	size_t files_done, files;
	long long bytes_now, bytes_total;	/* bytes_total: -1 unknown */
	size_t active;
};

struct up_fetch_opts {
	/* NULL: each pin's own URL; an http(s):// base URL; or a
	 * directory laid out like the cache */
	const char *mirror;
	const char *cacert;	/* PEM trust anchors for HTTPS */
	int jobs;		/* downloads at once */
	int attempts;		/* per file */
	long stall_ms;		/* a transfer silent this long is retried */
	void (*progress)(void *arg, const struct up_progress *p);
	void *arg;
};

void up_set_init(struct up_set *s);
void up_set_release(struct up_set *s);
/*
 * Lists every pinned file of the catalog, whatever the site (a site may
 * turn a component on later; an air-gapped site needs them all), and
 * reads the cache to set each one's state.  -1 when two components pin
 * the same file with different sums, or the cache cannot be read.
 */
int upstream_scan(struct up_set *s, const struct catalog *cat,
    const char *cache, struct s7_error *err);
/*
 * Brings every entry that is not UP_PRESENT into the cache and sets each
 * entry's result.  Returns the number of failed entries, or -1 with err
 * when nothing could be tried (the cache cannot be created, libcurl
 * cannot start, the mirror is neither a directory nor a URL).
 */
int upstream_fetch(struct up_set *s, const struct up_fetch_opts *o,
    struct s7_error *err);

/* Whether s is an http:// or https:// URL (else a directory). */
int upstream_is_url(const char *s);

#endif
