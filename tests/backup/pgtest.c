/*
 * Drives the dump code of src/backup (the same functions backup and
 * restore call, with the local runner instead of exec) against a real
 * PostgreSQL server, for pg.sh.  The password comes from $PGTEST_PASSWORD,
 * never from the command line.
 *
 *   pgtest dump DIR HOST PORT USER          globals.sql and DB.dump per database
 *   pgtest restore FILE SOCKETDIR PORT ADMIN DB   (as the OS user postgres)
 *   pgtest counts HOST PORT USER DB
 *   pgtest list PG_RESTORE FILE
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backup/internal.h"
#include "backup/pg.h"
#include "util/banned.h"

static int
die(const struct s7_error *err)
{
	printf("error: %s\n", err->msg);
	return 1;
}

int
main(int argc, char **argv)
{
	static const char *const as_postgres[] = { "runuser", "-u", "postgres", "--", NULL };
	const char *pw = getenv("PGTEST_PASSWORD");
	struct pg_runner pr;
	struct s7_error err;

	s7_error_clear(&err);
	memset(&pr, 0, sizeof(pr));
	if (argc == 6 && strcmp(argv[1], "dump") == 0) {
		struct backup_opts o;
		struct backup_stats st;
		struct brun b;
		struct ynode *rec;
		size_t i;

		memset(&o, 0, sizeof(o));
		memset(&st, 0, sizeof(st));
		brun_init(&b, NULL, &o, &st);
		b.root = strdup(argv[2]);
		mkdir(b.root, 0700);
		pr.host = argv[3];
		pr.port = argv[4];
		rec = ynode_map(&b.arena);
		if (backup_dump_cluster(&b, &pr, "ns", "pg", argv[5], pw, rec, &err) < 0) {
			brun_release(&b);
			return die(&err);
		}
		for (i = 0; i < b.nfiles; i++)
			printf("%s %s %llu\n", b.files[i].path, b.files[i].sha256,
			    b.files[i].size);
		brun_release(&b);
		return 0;
	}
	if (argc == 7 && strcmp(argv[1], "restore") == 0) {
		int fd = open(argv[2], O_RDONLY);

		pr.prefix = as_postgres;
		pr.admin_host = argv[3];
		pr.port = argv[4];
		pr.admin_user = argv[5];
		if (fd < 0 || pg_restore_db(&pr, argv[6], fd, &err) < 0)
			return fd < 0 ? 1 : die(&err);
		close(fd);
		printf("restored\n");
		return 0;
	}
	if (argc == 6 && strcmp(argv[1], "counts") == 0) {
		struct strbuf out;

		strbuf_init(&out, 1 << 20);
		pr.host = argv[2];
		pr.port = argv[3];
		if (pg_row_counts(&pr, argv[4], pw, argv[5], &out, &err) < 0) {
			strbuf_release(&out);
			return die(&err);
		}
		fwrite(out.buf, 1, out.len, stdout);
		strbuf_release(&out);
		return 0;
	}
	if (argc == 4 && strcmp(argv[1], "list") == 0) {
		size_t n = 0;
		int fd = open(argv[3], O_RDONLY);

		if (fd < 0 || pg_restore_list(argv[2], fd, &n, &err) < 0)
			return fd < 0 ? 1 : die(&err);
		printf("entries %zu\n", n);
		return 0;
	}
	fprintf(stderr, "pgtest: bad arguments\n");
	return 2;
}
