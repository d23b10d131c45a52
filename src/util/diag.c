#include "config.h"
#include "util/diag.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

void pf_diag_vadd(pf_diags *d, pf_severity sev, pf_loc loc, const char *fmt, va_list ap) {
        if (sev == PF_ERROR)
                d->n_errors++;
        if (d->n >= PF_DIAG_MAX)
                return;
        if (d->n == d->cap) {
                d->cap = d->cap ? 2 * d->cap : 16;
                d->v = pf_xreallocarray(d->v, d->cap, sizeof(*d->v));
        }
        char *msg = NULL;
        if (vasprintf(&msg, fmt, ap) < 0)
                pf_oom();
        d->v[d->n] = (pf_diag) { .loc = loc, .severity = sev, .seq = d->n, .msg = msg };
        d->n++;
}

void pf_diag_add(pf_diags *d, pf_severity sev, pf_loc loc, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        pf_diag_vadd(d, sev, loc, fmt, ap);
        va_end(ap);
}

static int diag_cmp(const void *a, const void *b) {
        const pf_diag *x = a, *y = b;
        const char *px = x->loc.src ? x->loc.src->path : "";
        const char *py = y->loc.src ? y->loc.src->path : "";
        int r = strcmp(px, py);
        if (r)
                return r;
        if (x->loc.line != y->loc.line)
                return x->loc.line < y->loc.line ? -1 : 1;
        if (x->loc.col != y->loc.col)
                return x->loc.col < y->loc.col ? -1 : 1;
        return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void pf_diag_sort(pf_diags *d) {
        if (d->n > 1)
                qsort(d->v, d->n, sizeof(*d->v), diag_cmp);
}

/* Find line `line` (1-based) in src; returns its start and length without the newline. */
static bool source_line(const pf_source *src, uint32_t line, const char **start, size_t *len) {
        if (!src || !src->text)
                return false;
        const char *p = src->text, *end = src->text + src->len;
        for (uint32_t l = 1; l < line; l++) {
                const char *nl = memchr(p, '\n', (size_t) (end - p));
                if (!nl)
                        return false;
                p = nl + 1;
        }
        const char *nl = memchr(p, '\n', (size_t) (end - p));
        size_t n = nl ? (size_t) (nl - p) : (size_t) (end - p);
        if (n && p[n - 1] == '\r')
                n--;
        *start = p;
        *len = n;
        return true;
}

/* Byte offset of character column col (1-based) in a UTF-8 line. */
static size_t col_offset(const char *s, size_t len, uint32_t col) {
        size_t i = 0;
        for (uint32_t c = 1; c < col && i < len; c++) {
                i++;
                while (i < len && ((unsigned char) s[i] & 0xC0) == 0x80)
                        i++;
        }
        return i;
}

enum { LINE_WINDOW = 120 };

/* Length of the valid, printable UTF-8 character at s, or 0. */
static size_t utf8_len(const char *s, size_t max) {
        unsigned char c = (unsigned char) s[0];
        if (c >= 0x20 && c < 0x7f)
                return 1;
        size_t n = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c < 0xe0 ? 2 : 0;
        if (!n || n > max || c >= 0xf5)
                return 0;
        for (size_t i = 1; i < n; i++)
                if (((unsigned char) s[i] & 0xC0) != 0x80)
                        return 0;
        return n;
}

static void print_excerpt(FILE *out, const pf_loc *loc, bool color) {
        const char *line;
        size_t len;
        if (!loc->col || !source_line(loc->src, loc->line, &line, &len))
                return;
        size_t caret = col_offset(line, len, loc->col);
        /* Very long lines (a 100 kB name) are shown as a window around the column. */
        size_t from = 0, to = len;
        if (len > LINE_WINDOW) {
                from = caret > LINE_WINDOW / 2 ? caret - LINE_WINDOW / 2 : 0;
                while (from > 0 && ((unsigned char) line[from] & 0xC0) == 0x80)
                        from--;
                to = from + LINE_WINDOW < len ? from + LINE_WINDOW : len;
                while (to < len && ((unsigned char) line[to] & 0xC0) == 0x80)
                        to++;
        }
        if (from)
                fputs("...", out);
        for (size_t i = from; i < to;) {
                size_t n = utf8_len(line + i, to - i);
                if (n == 0) {   /* control bytes and broken UTF-8 never reach the terminal */
                        fputc(line[i] == '\t' ? '\t' : '?', out);
                        i++;
                } else {
                        fwrite(line + i, 1, n, out);
                        i += n;
                }
        }
        if (to < len)
                fputs("...", out);
        fputc('\n', out);
        if (from)
                fputs("   ", out);
        for (size_t i = from; i < caret && i < to; i++) {
                unsigned char c = (unsigned char) line[i];
                if ((c & 0xC0) == 0x80)
                        continue;
                fputc(c == '\t' ? '\t' : ' ', out);
        }
        fputs(color ? "\033[1;32m^\033[0m\n" : "^\n", out);
}

void pf_diag_print(const pf_diags *d, FILE *out, bool color) {
        static const char *const names[] = { [PF_ERROR] = "error", [PF_WARNING] = "warning", [PF_NOTE] = "note" };
        static const char *const colors[] = { [PF_ERROR] = "\033[1;31m", [PF_WARNING] = "\033[1;35m", [PF_NOTE] = "\033[1;36m" };
        for (size_t i = 0; i < d->n; i++) {
                const pf_diag *g = &d->v[i];
                if (color)
                        fputs("\033[1m", out);
                if (g->loc.src && g->loc.line)
                        fprintf(out, "%s:%u:%u: ", g->loc.src->path, g->loc.line, g->loc.col);
                else if (g->loc.src)
                        fprintf(out, "%s: ", g->loc.src->path);
                else
                        fputs("podform: ", out);
                if (color)
                        fprintf(out, "%s%s:\033[0m\033[1m %s\033[0m\n", colors[g->severity], names[g->severity], g->msg);
                else
                        fprintf(out, "%s: %s\n", names[g->severity], g->msg);
                print_excerpt(out, &g->loc, color);
        }
        if (d->n_errors > d->n)
                fprintf(out, "podform: %zu more errors not shown\n", d->n_errors - d->n);
}

void pf_diag_drop_warnings(pf_diags *d) {
        size_t kept = 0;
        for (size_t i = 0; i < d->n; i++) {
                if (d->v[i].severity == PF_ERROR)
                        d->v[kept++] = d->v[i];
                else
                        free(d->v[i].msg);
        }
        d->n = kept;
}

void pf_diag_free(pf_diags *d) {
        for (size_t i = 0; i < d->n; i++)
                free(d->v[i].msg);
        free(d->v);
        *d = (pf_diags) { 0 };
}

const char *pf_quote(char *buf, size_t size, const char *s, size_t len) {
        enum { SHOW = 48 };
        size_t o = 0;
        buf[o++] = '"';
        size_t i;
        for (i = 0; i < len && o + 6 < size; i++) {
                if (i >= SHOW && len > SHOW + 8 && ((unsigned char) s[i] & 0xC0) != 0x80)
                        break;
                unsigned char c = (unsigned char) s[i];
                if (c == '"' || c == '\\') {
                        buf[o++] = '\\';
                        buf[o++] = (char) c;
                } else if (c < 0x20 || c == 0x7f) {
                        o += (size_t) snprintf(buf + o, size - o, "\\x%02x", c);
                } else {
                        buf[o++] = (char) c;
                }
        }
        if (i < len)
                o += (size_t) snprintf(buf + o, size - o, "...\" (%zu bytes)", len);
        else
                buf[o++] = '"';
        buf[o < size ? o : size - 1] = '\0';
        return buf;
}
