#include "config.h"
#include "util/xalloc.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

_Noreturn void pf_oom(void) {
        fputs("podform: out of memory\n", stderr);
        abort();
}

void *pf_xmalloc(size_t size) {
        void *p = malloc(size ? size : 1);
        if (!p)
                pf_oom();
        return p;
}

void *pf_xcalloc(size_t n, size_t size) {
        void *p = calloc(n ? n : 1, size ? size : 1);
        if (!p)
                pf_oom();
        return p;
}

void *pf_xreallocarray(void *p, size_t n, size_t size) {
        if (size && n > SIZE_MAX / size)
                pf_oom();
        size_t bytes = n * size;
        void *q = realloc(p, bytes ? bytes : 1);
        if (!q)
                pf_oom();
        return q;
}

char *pf_xstrdup(const char *s) {
        char *p = strdup(s);
        if (!p)
                pf_oom();
        return p;
}

char *pf_xstrndup(const char *s, size_t n) {
        char *p = strndup(s, n);
        if (!p)
                pf_oom();
        return p;
}

char *pf_xasprintf(const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        char *s = NULL;
        if (vasprintf(&s, fmt, ap) < 0)
                pf_oom();
        va_end(ap);
        return s;
}
