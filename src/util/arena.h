/* arena.h: bump allocator owning a whole loaded configuration.
 * The model is built once and freed at once, so per-object frees would only add bookkeeping. */
#pragma once
#include <stdarg.h>
#include <stddef.h>

typedef struct pf_arena_chunk pf_arena_chunk;
typedef struct pf_arena {
        pf_arena_chunk *head;
} pf_arena;

/* pf_arena_alloc: zeroed memory aligned for any object. Aborts on out-of-memory. */
void *pf_arena_alloc(pf_arena *a, size_t size);
/* pf_arena_array: zeroed n*size bytes; aborts on overflow or out-of-memory. */
void *pf_arena_array(pf_arena *a, size_t n, size_t size);
char *pf_arena_strndup(pf_arena *a, const char *s, size_t len);
char *pf_arena_strdup(pf_arena *a, const char *s);
char *pf_arena_printf(pf_arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *pf_arena_vprintf(pf_arena *a, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
void pf_arena_free(pf_arena *a);
