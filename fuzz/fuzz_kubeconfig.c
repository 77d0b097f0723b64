/*
 * Fuzz target: a kubeconfig.  Loaded from memory; credentials are
 * loaded only when no exec plugin is named (the fuzzer must not run
 * programs).  Any error must be a complete message.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kube/kubeconfig.h"
#include "util/xmalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kubeconfig kc;
	struct s7_error err;
	char *header = NULL;

	kubeconfig_init(&kc);
	s7_error_clear(&err);
	if (kubeconfig_load_text(&kc, "fuzz", (const char *)data, size, NULL,
	    &err) == 0) {
		if (kc.server == NULL || kc.ns == NULL)
			abort();
		if (!kc.has_exec && kubeconfig_auth(&kc, &header, &err) == 0 &&
		    header) {
			size_t i;

			/* whatever the input, the header is one line */
			for (i = 0; header[i]; i++)
				if ((unsigned char)header[i] < 0x20 ||
				    header[i] == 0x7f)
					abort();
			xfree_secret(header, strlen(header));
		}
	} else if (strnlen(err.msg, sizeof(err.msg)) == sizeof(err.msg)) {
		abort();
	}
	kubeconfig_release(&kc);
	return 0;
}
