/*
 * The rollout engine's events in words (text, on stderr) or as JSON
 * records (in the command's result).  struct events keeps a copy of
 * each, for commands that print them with their result; with echo set
 * it also prints each as it comes.
 */
#ifndef S7_CMD_EVENTS_H
#define S7_CMD_EVENTS_H

#include <stdio.h>

#include "../rollout/rollout.h"
#include "../util/arena.h"

void event_print(FILE *fp, const struct rollout_event *ev);
void event_json(const struct rollout_event *ev);

struct events {
	struct arena arena;
	struct rollout_event *v;
	size_t n, alloc;
	int echo;		/* print each on stderr as it comes */
};

void events_init(struct events *evs);
void events_release(struct events *evs);
/* A rollout_event_fn: keeps a copy of ev (arg is the struct events). */
void events_keep(void *arg, const struct rollout_event *ev);
/* The kept events as a JSON array under key. */
void events_json(const struct events *evs, const char *key);

#endif
