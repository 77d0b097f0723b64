#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "strbuf.h"
#include "text.h"
#include "xmalloc.h"
#include "banned.h"

void
s7_error_clear(struct s7_error *err)
{
	memset(err, 0, sizeof(*err));
}

static void
set(struct s7_error *err, enum s7_errclass class, const char *fmt, va_list ap)
{
	err->class = class;
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
}

int
s7_error(struct s7_error *err, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return -1;
	va_start(ap, fmt);
	set(err, S7_EFAIL, fmt, ap);
	va_end(ap);
	err->file[0] = '\0';
	err->line = err->col = 0;
	return -1;
}

int
s7_error_class(struct s7_error *err, enum s7_errclass class,
    const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return -1;
	va_start(ap, fmt);
	set(err, class, fmt, ap);
	va_end(ap);
	err->file[0] = '\0';
	err->line = err->col = 0;
	return -1;
}

int
s7_error_at(struct s7_error *err, const char *file, unsigned line,
    unsigned col, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return -1;
	va_start(ap, fmt);
	set(err, S7_EINPUT, fmt, ap);
	va_end(ap);
	snprintf(err->file, sizeof(err->file), "%s", file ? file : "");
	err->line = line;
	err->col = col;
	return -1;
}

void
s7_error_prefix(struct s7_error *err, const char *fmt, ...)
{
	char head[512];
	size_t hl, ol, room = sizeof(err->msg) - 1;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(head, sizeof(head), fmt, ap);
	va_end(ap);
	hl = strlen(head) + 2;			/* "head: " */
	ol = strlen(err->msg);
	if (ol > room - hl)
		ol = room - hl;			/* the message's tail is cut */
	memmove(err->msg + hl, err->msg, ol);
	memcpy(err->msg, head, hl - 2);
	err->msg[hl - 2] = ':';
	err->msg[hl - 1] = ' ';
	err->msg[hl + ol] = '\0';
}

/*
 * The message may quote outside text (a server's message, a value from
 * the site): it is escaped here, the last step before a terminal, so a
 * control character that slipped past the code that built it still
 * cannot reach one.
 */
void
s7_error_print(const struct s7_error *err, FILE *fp)
{
	struct strbuf file, msg;

	strbuf_init(&file, sizeof(err->file) * 8);
	strbuf_init(&msg, sizeof(err->msg) * 8);
	text_escape(&file, err->file, strnlen(err->file, sizeof(err->file)),
	    sizeof(err->file), 0);
	text_escape(&msg, err->msg, strnlen(err->msg, sizeof(err->msg)),
	    sizeof(err->msg), TEXT_KEEP_NEWLINES);
	if (file.len && err->line)
		fprintf(fp, "%s:%u:%u: error: %s\n", file.buf, err->line,
		    err->col, msg.buf);
	else if (file.len)
		fprintf(fp, "%s: error: %s\n", file.buf, msg.buf);
	else
		fprintf(fp, "sector7: error: %s\n", msg.buf);
	strbuf_release(&file);
	strbuf_release(&msg);
}
