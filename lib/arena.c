/* arena.c: a bump allocator for per-record scratch values. */
#include <stdlib.h>
#include <string.h>

#include "sp.h"

#define ARENA_BLOCK 65536

struct sp_arena_block {
	struct sp_arena_block *next;
	size_t size;
	_Alignas(16) unsigned char data[];
};

void
sp_arena_init(struct sp_arena *a)
{
	a->head = NULL;
	a->cur = NULL;
	a->used = 0;
}

void
sp_arena_release(struct sp_arena *a)
{
	struct sp_arena_block *b, *next;

	for (b = a->head; b != NULL; b = next) {
		next = b->next;
		free(b);
	}
	sp_arena_init(a);
}

void
sp_arena_reset(struct sp_arena *a)
{
	/* Blocks stay allocated: the next record reuses them. */
	a->cur = a->head;
	a->used = 0;
}

static struct sp_arena_block *
block_new(size_t min)
{
	size_t size = min > ARENA_BLOCK ? min : ARENA_BLOCK;
	struct sp_arena_block *b = sp_xmalloc(sizeof(*b) + size);

	b->next = NULL;
	b->size = size;
	return b;
}

void *
sp_arena_alloc(struct sp_arena *a, size_t n)
{
	struct sp_arena_block *b;
	void *p;

	n = (n + 15) & ~(size_t)15;
	if (a->cur == NULL) {
		if (a->head == NULL)
			a->head = block_new(n);
		a->cur = a->head;
		a->used = 0;
	}
	while (a->cur->size - a->used < n) {
		b = a->cur->next;
		if (b == NULL || b->size < n) {
			/* Insert a fresh block after cur; a too-small
			 * successor is kept for later records. */
			struct sp_arena_block *nb = block_new(n);

			nb->next = b;
			a->cur->next = nb;
			b = nb;
		}
		a->cur = b;
		a->used = 0;
	}
	p = a->cur->data + a->used;
	a->used += n;
	return p;
}

void
sp_arena_mark(const struct sp_arena *a, struct sp_arena_mark *m)
{
	m->cur = a->cur;
	m->used = a->used;
}

void
sp_arena_rewind(struct sp_arena *a, const struct sp_arena_mark *m)
{
	/* Blocks after the mark stay in the list, for the next allocations. */
	a->cur = m->cur;
	a->used = m->used;
}

void *
sp_arena_dup(struct sp_arena *a, const void *p, size_t n)
{
	char *q = sp_arena_alloc(a, n + 1);

	memcpy(q, p, n);
	q[n] = '\0';
	return q;
}
