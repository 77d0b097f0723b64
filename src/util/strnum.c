#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>

#include "strnum.h"
#include "banned.h"

long long
s7_strtonum(const char *s, long long min, long long max, const char **errstr)
{
	long long v;
	char *end;

	*errstr = "invalid";
	if (s == NULL || *s == '\0' || isspace((unsigned char)*s) || min > max)
		return 0;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (end == s || *end != '\0')
		return 0;
	if ((errno == ERANGE && v == LLONG_MIN) || v < min) {
		*errstr = "too small";
		return 0;
	}
	if ((errno == ERANGE && v == LLONG_MAX) || v > max) {
		*errstr = "too large";
		return 0;
	}
	*errstr = NULL;
	return v;
}
