/* xalloc.h: allocation that cannot fail, and scope-bound cleanup.
 * A CLI that runs out of memory has nothing useful left to do, so allocation failure aborts. */
#pragma once
#include <stddef.h>
#include <stdlib.h>

_Noreturn void pf_oom(void);
void *pf_xmalloc(size_t size);
void *pf_xcalloc(size_t n, size_t size);
void *pf_xreallocarray(void *p, size_t n, size_t size);
char *pf_xstrdup(const char *s);
char *pf_xstrndup(const char *s, size_t n);
/* pf_xasprintf: a formatted, malloc'd string. */
char *pf_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* _cleanup_(fn): call fn(&var) when var leaves scope; TAKE_PTR hands ownership out. */
#define _cleanup_(fn) __attribute__((cleanup(fn)))
#define TAKE_PTR(p) ({ __typeof__(p) _taken = (p); (p) = NULL; _taken; })
static inline void pf_freep(void *p) { free(*(void **) p); }
#define _cleanup_free_ _cleanup_(pf_freep)
