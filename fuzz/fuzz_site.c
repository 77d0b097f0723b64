/*
 * Fuzz target: the site loader and every check, plus what is derived
 * from a valid site (DNS records, host files, the template context).
 */
#include <stdint.h>
#include <stdlib.h>

#include "render/context.h"
#include "site/dns.h"
#include "site/hosts.h"
#include "site/site.h"
#include "util/strbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct site s;
	struct findings f;

	site_init(&s);
	findings_init(&f, "fuzz");
	if (site_load(&s, "fuzz", (const char *)data, size, &f) == 0) {
		site_check(&s, &f);
		if (f.errors == 0) {
			struct strbuf sb;
			struct dns_plan p;
			size_t i;

			strbuf_init(&sb, STRBUF_LARGE);
			dns_plan(&s, &p);
			dns_format_internal(&s, &p, &sb);
			dns_format_unbound(&p, &sb);
			dns_format_external(&p, &sb);
			for (i = 0; i < s.nnodes; i++)
				hosts_k3s_config(&s, &s.nodes[i], &sb);
			hosts_prerequisites(&s, &sb);
			hosts_firewall(&s, &sb);
			context_build(&s.arena, &s, "fuzz");
			strbuf_release(&sb);
		}
	}
	findings_release(&f);
	site_release(&s);
	return 0;
}
