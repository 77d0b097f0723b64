/*
 * Apply order of kinds inside a component: what others refer to comes
 * first (namespaces, CRDs, accounts, config), workloads next, webhook
 * configurations and custom resources last.
 */
#ifndef S7_RENDER_KINDS_H
#define S7_RENDER_KINDS_H

/* 1..98 for known kinds, 99 for anything else (custom resources). */
int kind_rank(const char *kind);

#endif
