/* diag.h: source positions and the one error style of podform:
 *   FILE:LINE:COL: error: MESSAGE
 *   <source line>
 *   <caret under COL>
 * Errors are collected, not printed at once, so that a run reports all of them sorted. */
#pragma once
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* A loaded file; text stays alive as long as the configuration, so errors can quote it. */
typedef struct pf_source {
        const char *path;
        const char *text;
        size_t len;
} pf_source;

/* A position in a source. line == 0 means "not given" (a field absent from the YAML). */
typedef struct pf_loc {
        const pf_source *src;
        uint32_t line, col;     /* 1-based; col counts characters, as libyaml does */
} pf_loc;

static inline bool pf_loc_set(pf_loc l) { return l.line != 0; }

typedef enum pf_severity { PF_ERROR, PF_WARNING, PF_NOTE } pf_severity;

typedef struct pf_diag {
        pf_loc loc;
        pf_severity severity;
        size_t seq;             /* emission order: ties in the sort keep it */
        char *msg;
} pf_diag;

typedef struct pf_diags {
        pf_diag *v;
        size_t n, cap;
        size_t n_errors;
} pf_diags;

/* Upper bound on stored diagnostics: a hostile file cannot make us print millions of lines. */
#define PF_DIAG_MAX 1000

void pf_diag_add(pf_diags *d, pf_severity sev, pf_loc loc, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
void pf_diag_vadd(pf_diags *d, pf_severity sev, pf_loc loc, const char *fmt, va_list ap)
        __attribute__((format(printf, 4, 0)));
#define pf_error(d, loc, ...) pf_diag_add((d), PF_ERROR, (loc), __VA_ARGS__)

/* pf_diag_sort: order by path (bytes), line, column, then emission. */
void pf_diag_sort(pf_diags *d);
/* pf_diag_print: every diagnostic with its quoted source line and caret. */
void pf_diag_print(const pf_diags *d, FILE *out, bool color);
void pf_diag_free(pf_diags *d);
/* pf_diag_drop_warnings: only the errors stay (-q: errors only). */
void pf_diag_drop_warnings(pf_diags *d);

/* pf_quote: a user value as it should appear in a message: double-quoted, control bytes
 * escaped, shortened to about 48 bytes. Returns buf. */
const char *pf_quote(char *buf, size_t size, const char *s, size_t len);
#define PF_QUOTE_MAX 256
