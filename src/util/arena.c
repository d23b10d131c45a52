#include "config.h"
#include "util/arena.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

struct pf_arena_chunk {
        pf_arena_chunk *next;
        size_t used, size;
        max_align_t data[];
};

enum { CHUNK_MIN = 64 * 1024 };

/* size bytes at `align` in the head chunk (a new one when they do not fit), not zeroed. */
static void *take(pf_arena *a, size_t size, size_t align) {
        if (size > SIZE_MAX - align)
                pf_oom();
        pf_arena_chunk *c = a->head;
        size_t at = c ? (c->used + align - 1) & ~(align - 1) : 0;
        if (!c || at > c->size || c->size - at < size) {
                size_t cap = size > CHUNK_MIN ? size : CHUNK_MIN;
                c = pf_xmalloc(sizeof(*c) + cap);
                c->size = cap;
                c->used = 0;
                c->next = a->head;
                a->head = c;
                at = 0;
        }
        void *p = (char *) c->data + at;
        c->used = at + size;
        return p;
}

void *pf_arena_alloc(pf_arena *a, size_t size) {
        void *p = take(a, size, _Alignof(max_align_t));
        memset(p, 0, size);
        return p;
}

void *pf_arena_array(pf_arena *a, size_t n, size_t size) {
        if (size && n > SIZE_MAX / size)
                pf_oom();
        return pf_arena_alloc(a, n * size);
}

/* Strings are packed: no alignment (half a small string's size, on average). */
char *pf_arena_strndup(pf_arena *a, const char *s, size_t len) {
        if (len == SIZE_MAX)
                pf_oom();
        char *p = take(a, len + 1, 1);
        memcpy(p, s, len);
        p[len] = '\0';
        return p;
}

char *pf_arena_strdup(pf_arena *a, const char *s) {
        return pf_arena_strndup(a, s, strlen(s));
}

char *pf_arena_vprintf(pf_arena *a, const char *fmt, va_list ap) {
        va_list ap2;
        va_copy(ap2, ap);
        int n = vsnprintf(NULL, 0, fmt, ap);
        if (n < 0)
                pf_oom();
        char *p = take(a, (size_t) n + 1, 1);
        vsnprintf(p, (size_t) n + 1, fmt, ap2);
        va_end(ap2);
        return p;
}

char *pf_arena_printf(pf_arena *a, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        char *p = pf_arena_vprintf(a, fmt, ap);
        va_end(ap);
        return p;
}

void pf_arena_free(pf_arena *a) {
        for (pf_arena_chunk *c = a->head, *next; c; c = next) {
                next = c->next;
                free(c);
        }
        a->head = NULL;
}
