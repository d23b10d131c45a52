#include "config.h"
#include "util/yaml_out.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/cleanup.h"
#include "util/xalloc.h"

void pf_yaml_out_init(pf_yaml_out *y, FILE *f) {
        *y = (pf_yaml_out) { .f = f };
}

static void indent(pf_yaml_out *y) {
        unsigned n = y->dash && y->depth ? y->depth - 1 : y->depth;
        for (unsigned i = 0; i < n; i++)
                fputs("  ", y->f);
        if (y->dash)
                fputs("- ", y->f);
        y->dash = false;
}

void pf_yaml_document(pf_yaml_out *y, const char *comment) {
        if (y->in_document)
                fputs("---\n", y->f);
        y->in_document = true;
        y->depth = 0;
        y->dash = false;
        if (comment)
                pf_yaml_comment(y, "%s", comment);
}

void pf_yaml_map(pf_yaml_out *y, const char *key) {
        indent(y);
        fprintf(y->f, "%s:\n", key);
        y->depth++;
}

void pf_yaml_end(pf_yaml_out *y) {
        if (y->depth)
                y->depth--;
}

void pf_yaml_seq(pf_yaml_out *y, const char *key) {
        pf_yaml_map(y, key);
}

void pf_yaml_item(pf_yaml_out *y) {
        y->depth++;
        y->dash = true;
}

/* YAML 1.1 and 1.2 readers would type these, or sexagesimal numbers (a MAC of digits). */
static bool looks_typed(const char *s) {
        static const char *const words[] = { "true", "false", "yes", "no", "on", "off", "y", "n", "null", "~", "" };
        for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
                if (!strcasecmp(s, words[i]))
                        return true;
        char *end;
        (void) strtod(s, &end);
        return *end == '\0' || strchr(s, ':') != NULL;
}

static bool plain_safe(const char *s) {
        if (strchr("-?:,[]{}#&*!|>'\"%@`. ", s[0]))
                return false;
        for (const char *p = s; *p; p++)
                if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._/-+", *p))
                        return false;
        return true;
}

static void write_scalar(FILE *f, pf_yaml_type type, const char *v) {
        if (type != PF_YAML_STR || (plain_safe(v) && !looks_typed(v))) {
                fputs(v, f);
                return;
        }
        fputc('"', f);
        for (const unsigned char *p = (const unsigned char *) v; *p; p++) {
                if (*p == '"' || *p == '\\')
                        fprintf(f, "\\%c", *p);
                else if (*p < 0x20 || *p == 0x7f)
                        fprintf(f, "\\x%02x", *p);
                else
                        fputc(*p, f);
        }
        fputc('"', f);
}

void pf_yaml_scalar(pf_yaml_out *y, const char *key, pf_yaml_type type, const char *value) {
        indent(y);
        fprintf(y->f, "%s: ", key);
        write_scalar(y->f, type, value);
        fputc('\n', y->f);
}

void pf_yaml_list(pf_yaml_out *y, const char *key, pf_yaml_type type, const char *const *v, size_t n) {
        indent(y);
        fprintf(y->f, "%s: [", key);
        for (size_t i = 0; i < n; i++) {
                if (i)
                        fputs(", ", y->f);
                write_scalar(y->f, type, v[i]);
        }
        fputs("]\n", y->f);
}

void pf_yaml_comment(pf_yaml_out *y, const char *fmt, ...) {
        _cleanup_free_ char *text = NULL;
        va_list ap;
        va_start(ap, fmt);
        if (vasprintf(&text, fmt, ap) < 0)
                pf_oom();
        va_end(ap);
        for (char *line = text, *next; line; line = next) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                indent(y);
                fprintf(y->f, "#%s%s\n", *line ? " " : "", line);
        }
}
