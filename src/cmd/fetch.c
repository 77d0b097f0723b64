/*
 * sector7 fetch: fill the upstream cache, once, on a machine that can
 * reach the release URLs (or a mirror of them).  Everything else sector7
 * does reads the cache only; this is the one command that downloads.
 *
 * Every file the catalog pins is fetched whatever the site uses, so a
 * cache filled once serves any site.  A file enters the cache only after
 * its sha256 matched the pin.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "output.h"
#include "../upstream/upstream.h"
#include "../util/banned.h"

static const char *mirror;
static const char *cacert;
static long long jobs = 4;
static long long attempts = 4;
static long long stall_s = 30;
static int check_only;

static const struct opt_spec fetch_opts[] = {
	{ "mirror", 0, OPT_STRING, &mirror, "DIR|URL",
	  "take the files from a directory laid out like the cache, or from URL/<file>, instead of their release URLs",
	  0, 0, NULL },
	{ "cacert", 0, OPT_STRING, &cacert, "FILE",
	  "PEM file of CA certificates to verify HTTPS servers with (default: the system's)",
	  0, 0, NULL },
	{ "jobs", 'j', OPT_INT, &jobs, "N",
	  "downloads at once (default 4)", 1, 16, NULL },
	{ "attempts", 0, OPT_INT, &attempts, "N",
	  "tries per file before it counts as failed; each continues where the last stopped (default 4)",
	  1, 20, NULL },
	{ "stall-timeout", 0, OPT_INT, &stall_s, "S",
	  "retry a transfer that receives nothing for S seconds (default 30)",
	  1, 3600, NULL },
	{ "check", 0, OPT_FLAG, &check_only, NULL,
	  "only check the cache: exit 1 unless every pinned file is there with its sha256",
	  0, 0, NULL },
	{ NULL },
};

static double
seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
human(char *buf, size_t size, long long n)
{
	if (n >= 1024 * 1024)
		snprintf(buf, size, "%.1f MiB", (double)n / (1024.0 * 1024.0));
	else if (n >= 1024)
		snprintf(buf, size, "%.1f KiB", (double)n / 1024.0);
	else
		snprintf(buf, size, "%lld bytes", n);
}

/* One line on a terminal's stderr, redrawn in place. */
static void
progress(void *arg, const struct up_progress *p)
{
	char now[32], total[32], bar[32];
	size_t i, fill;

	(void)arg;
	fill = p->files ? p->files_done * 24 / p->files : 24;
	for (i = 0; i < 24; i++)
		bar[i] = i < fill ? '#' : '-';
	bar[24] = '\0';
	human(now, sizeof(now), p->bytes_now);
	if (p->bytes_total >= 0)
		human(total, sizeof(total), p->bytes_total);
	fprintf(stderr, "\r\033[Kfetch [%s] %zu/%zu files, %s%s%s, %zu running",
	    bar, p->files_done, p->files, now, p->bytes_total >= 0 ? " of " : "",
	    p->bytes_total >= 0 ? total : "", p->active);
	fflush(stderr);
}

static void
hint(const char *cache, int explicit_cache)
{
	fprintf(stderr, "sector7: run 'sector7 fetch%s%s' (or 'sector7 fetch --mirror DIR' from a copy)\n",
	    explicit_cache ? " --upstream " : "", explicit_cache ? cache : "");
}

static int
check_cache(struct up_set *s, int explicit_cache)
{
	size_t i, present = 0, missing = 0, wrong = 0;

	out_open_array("problems");
	for (i = 0; i < s->n; i++) {
		const struct up_entry *e = &s->v[i];

		switch (e->state) {
		case UP_PRESENT:
			present++;
			break;
		case UP_MISSING:
			missing++;
			out_open_object(NULL);
			out_string(OUT_JSON, "state", NULL, "missing");
			out_string(OUT_ANY, "file", "missing  %s\n", e->src->file);
			out_close_object();
			break;
		case UP_WRONG:
			wrong++;
			out_open_object(NULL);
			out_string(OUT_JSON, "state", NULL, "wrong");
			out_string(OUT_ANY, "file", "wrong    %s: ", e->src->file);
			out_string(OUT_ANY, "sha256", "sha256 %s, ", e->have);
			out_string(OUT_ANY, "pinned", "the catalog pins %s\n",
			    e->src->sha256);
			out_close_object();
			break;
		}
	}
	out_close_array();
	out_string(OUT_JSON, "cache", NULL, s->cache);
	out_uint(OUT_JSON, "present", NULL, present);
	out_uint(OUT_JSON, "missing", NULL, missing);
	out_uint(OUT_JSON, "wrong", NULL, wrong);
	out_text("%zu pinned files in %s: %zu present, %zu missing, %zu wrong\n",
	    s->n, s->cache, present, missing, wrong);
	if (missing + wrong == 0)
		return EXIT_OK;
	hint(s->cache, explicit_cache);
	return EXIT_FAILED;
}

static int
fetch_exec(struct cmd_ctx *c, int npos, char **pos)
{
	const char *cache = c->upstream ? c->upstream : render_default_upstream();
	struct up_fetch_opts o;
	struct catalog cat;
	struct up_set s;
	struct s7_error err;
	size_t i, fetched = 0, already = 0, failed = 0;
	long long bytes = 0;
	double t0 = seconds();
	int r, code = EXIT_OK;
	char hb[32];

	(void)npos;
	(void)pos;
	s7_error_clear(&err);
	catalog_init(&cat);
	up_set_init(&s);
	if (catalog_load(&cat, &err) < 0 ||
	    upstream_scan(&s, &cat, cache, &err) < 0) {
		code = fail_with(&err);
		goto done;
	}
	if (check_only) {
		code = check_cache(&s, c->upstream != NULL);
		goto done;
	}
	memset(&o, 0, sizeof(o));
	o.mirror = mirror;
	o.cacert = cacert;
	o.jobs = (int)jobs;
	o.attempts = (int)attempts;
	o.stall_ms = (long)stall_s * 1000;
	if (isatty(2))
		o.progress = progress;
	r = upstream_fetch(&s, &o, &err);
	if (o.progress)
		fprintf(stderr, "\r\033[K");
	if (r < 0) {
		code = fail_with(&err);
		goto done;
	}
	out_open_array("files");
	for (i = 0; i < s.n; i++) {
		const struct up_entry *e = &s.v[i];

		switch (e->result) {
		case UP_ALREADY:
			already++;
			break;
		case UP_FETCHED:
			fetched++;
			bytes += e->bytes;
			human(hb, sizeof(hb), e->bytes);
			out_open_object(NULL);
			out_string(OUT_JSON, "result", NULL, "fetched");
			out_string(OUT_ANY, "file", "fetched  %s", e->src->file);
			out_int(OUT_JSON, "bytes", NULL, e->bytes);
			out_text(" (%s", hb);
			if (e->resumed_at > 0)
				out_int(OUT_ANY, "resumed_at",
				    ", resumed at byte %lld", e->resumed_at);
			if (e->attempts > 1)
				out_int(OUT_ANY, "attempts", ", %lld attempts",
				    e->attempts);
			out_text(")\n");
			out_close_object();
			break;
		case UP_FAILED:
			failed++;
			out_open_object(NULL);
			out_string(OUT_JSON, "result", NULL, "failed");
			out_string(OUT_JSON, "file", NULL, e->src->file);
			out_string(OUT_JSON, "why", NULL, e->why);
			out_close_object();
			fprintf(stderr, "sector7: error: %s: %s\n", e->src->file,
			    e->why);
			break;
		}
	}
	out_close_array();
	human(hb, sizeof(hb), bytes);
	out_uint(OUT_JSON, "pinned", NULL, s.n);
	out_uint(OUT_JSON, "fetched", NULL, fetched);
	out_uint(OUT_JSON, "already_present", NULL, already);
	out_uint(OUT_JSON, "failed", NULL, failed);
	out_int(OUT_JSON, "bytes", NULL, bytes);
	out_float(OUT_JSON, "seconds", NULL, seconds() - t0);
	out_string(OUT_JSON, "cache", NULL, s.cache);
	out_text("%zu pinned files: %zu fetched, %zu already present, %zu failed (%s in %.1f s) in %s\n",
	    s.n, fetched, already, failed, hb, seconds() - t0, s.cache);
	if (failed) {
		fprintf(stderr, "sector7: %zu file%s not fetched; the cache holds only verified files, and partial downloads are continued by the next fetch\n",
		    failed, failed == 1 ? "" : "s");
		code = EXIT_FAILED;
	}
done:
	up_set_release(&s);
	catalog_release(&cat);
	return code;
}

const struct cmd_entry cmd_fetch_entry = {
	"fetch", "download the pinned upstream manifests into the cache", "", 0, 0,
	"Downloads every upstream file the catalog pins (each component's upstream:\n"
	"url, sha256, file) into the upstream cache (--upstream, $SECTOR7_UPSTREAM, else\n"
	"~/.cache/sector7/upstream), several at a time, following redirects, with TLS\n"
	"verified. A file enters the cache only after its sha256 matched the pin; until\n"
	"then it is a partial file under DIR/.partial, and an interrupted download is\n"
	"continued where it stopped, by the next attempt or the next fetch. Files already\n"
	"there with the right sha256 are not downloaded again. For an air-gapped site,\n"
	"--mirror takes the files from a directory laid out like the cache, or from\n"
	"URL/<file> on an internal server (--cacert for its CA). Exit 1 when any file\n"
	"failed, naming it and why. This is the only command that downloads.",
	fetch_opts, CMD_UPSTREAM, NULL, fetch_exec,
};
