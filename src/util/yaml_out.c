#include "config.h"
#include "util/yaml_out.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/cleanup.h"
#include "util/xalloc.h"

typedef enum ykind { Y_ROOT, Y_DOC, Y_MAP, Y_SEQ, Y_ITEM, Y_SCALAR, Y_LIST, Y_COMMENT } ykind;

struct pf_ynode {
        ykind kind;
        pf_yaml_type type;              /* scalars, and the items of a list */
        const char *key, *value;
        pf_ynode *first, *last, *next;
};

#define MAX_OPEN (sizeof(((pf_yaml_out *) 0)->open) / sizeof(pf_ynode *))

static pf_ynode *node(pf_yaml_out *y, ykind kind, const char *key, const char *value) {
        pf_ynode *n = pf_arena_array(&y->arena, 1, sizeof(*n));
        n->kind = kind;
        n->key = key ? pf_arena_strdup(&y->arena, key) : NULL;
        n->value = value ? pf_arena_strdup(&y->arena, value) : NULL;
        return n;
}

static void append(pf_ynode *parent, pf_ynode *n) {
        if (parent->last)
                parent->last->next = n;
        else
                parent->first = n;
        parent->last = n;
}

static pf_ynode *add(pf_yaml_out *y, ykind kind, const char *key, const char *value) {
        if (!y->depth)          /* never below the root */
                y->depth = 1;
        pf_ynode *n = node(y, kind, key, value);
        append(y->open[y->depth - 1], n);
        return n;
}

static void push(pf_yaml_out *y, pf_ynode *n) {
        if (y->depth == MAX_OPEN)
                abort();        /* a caller's bug: show nests a handful of levels */
        y->open[y->depth++] = n;
}

void pf_yaml_out_init(pf_yaml_out *y, FILE *f, pf_yaml_format format) {
        *y = (pf_yaml_out) { .f = f, .format = format };
        y->root = node(y, Y_ROOT, NULL, NULL);
        y->open[0] = y->root;
        y->depth = 1;
}

void pf_yaml_document(pf_yaml_out *y, const char *comment) {
        y->depth = 1;
        push(y, add(y, Y_DOC, NULL, NULL));
        if (comment)
                pf_yaml_comment(y, "%s", comment);
}

void pf_yaml_map(pf_yaml_out *y, const char *key) { push(y, add(y, Y_MAP, key, NULL)); }
void pf_yaml_seq(pf_yaml_out *y, const char *key) { push(y, add(y, Y_SEQ, key, NULL)); }
void pf_yaml_item(pf_yaml_out *y) { push(y, add(y, Y_ITEM, NULL, NULL)); }

void pf_yaml_end(pf_yaml_out *y) {
        /* never the document or the root: those close with the next document */
        if (y->depth > 2)
                y->depth--;
}

void pf_yaml_scalar(pf_yaml_out *y, const char *key, pf_yaml_type type, const char *value) {
        add(y, Y_SCALAR, key, value)->type = type;
}

void pf_yaml_list(pf_yaml_out *y, const char *key, pf_yaml_type type, const char *const *v, size_t n) {
        pf_ynode *l = add(y, Y_LIST, key, NULL);
        l->type = type;
        for (size_t i = 0; i < n; i++)
                append(l, node(y, Y_SCALAR, NULL, v[i]));
}

static void comment_at(pf_yaml_out *y, pf_ynode *parent, const char *fmt, va_list ap) {
        _cleanup_free_ char *text = NULL;
        if (vasprintf(&text, fmt, ap) < 0)
                pf_oom();
        for (char *line = text, *next; line; line = next) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                append(parent, node(y, Y_COMMENT, NULL, line));
        }
}

void pf_yaml_comment(pf_yaml_out *y, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        comment_at(y, y->open[y->depth ? y->depth - 1 : 0], fmt, ap);
        va_end(ap);
}

void pf_yaml_aside(pf_yaml_out *y, const char *fmt, ...) {
        y->depth = 1;
        va_list ap;
        va_start(ap, fmt);
        comment_at(y, y->root, fmt, ap);
        va_end(ap);
}

/* ---- characters ---- */

/* The length of the UTF-8 sequence at s and its code point, or 0: not one (overlong,
 * surrogate, beyond U+10FFFF or cut short). */
static size_t utf8_char(const unsigned char *s, uint32_t *cp) {
        size_t n = s[0] < 0x80 ? 1 : (s[0] & 0xe0) == 0xc0 ? 2 : (s[0] & 0xf0) == 0xe0 ? 3 : (s[0] & 0xf8) == 0xf0 ? 4 : 0;
        static const uint32_t min[] = { 0, 0, 0x80, 0x800, 0x10000 };
        if (!n)
                return 0;
        uint32_t c = n == 1 ? s[0] : s[0] & (0x7f >> n);
        for (size_t i = 1; i < n; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
                c = c << 6 | (s[i] & 0x3f);
        }
        if (c < min[n] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
                return 0;
        *cp = c;
        return n;
}

/* Whether a reader must see code point c escaped: C0 and C1 controls, DEL, the line and
 * paragraph separators and the byte-order mark. */
static bool needs_escape(uint32_t c) {
        return c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == 0x2028 || c == 0x2029 || c == 0xfeff;
}

/* s with quotes and backslashes escaped (when `quote`), controls as \uXXXX and bytes that are
 * no UTF-8 as `bad` gives them (YAML: \xNN; JSON: U+FFFD). */
static void write_escaped(FILE *f, const char *s, bool quote, bool json) {
        const unsigned char *p = (const unsigned char *) s;
        while (*p) {
                uint32_t c = 0;
                size_t n = utf8_char(p, &c);
                if (!n) {
                        fprintf(f, json ? "\\ufffd" : "\\x%02x", *p);
                        p++;
                        continue;
                }
                if (quote && (c == '"' || c == '\\'))
                        fprintf(f, "\\%c", (char) c);
                else if (needs_escape(c))
                        fprintf(f, "\\u%04x", (unsigned) c);
                else
                        fwrite(p, 1, n, f);
                p += n;
        }
}

/* YAML 1.1 and 1.2 readers would type these, or sexagesimal numbers (a MAC of digits). */
static bool looks_typed(const char *s) {
        static const char *const words[] = { "true", "false", "yes", "no", "on", "off", "y", "n", "null", "~", "" };
        for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
                if (!strcasecmp(s, words[i]))
                        return true;
        char *end;
        (void) strtod(s, &end);
        if (*end == '\0' || strchr(s, ':') != NULL)
                return true;
        /* YAML 1.1's other scalars: 0b101, 0o17, 1_000, .inf, a date */
        const char *p = s + (*s == '-' || *s == '+');
        if (*p == '.' && (!strcasecmp(p, ".inf") || !strcasecmp(p, ".nan")))
                return true;
        if (p[0] == '0' && strchr("bBoO", p[1]) && p[2])
                return true;
        const char *dot = strchr(p, '.');
        if (isdigit((unsigned char) *p) && strchr(p, '_') && strspn(p, "0123456789_.") == strlen(p) &&
            (!dot || !strchr(dot + 1, '.')))
                return true;
        return isdigit((unsigned char) s[0]) && strspn(s, "0123456789") == 4 && s[4] == '-' && isdigit((unsigned char) s[5]);
}

static bool plain_safe(const char *s) {
        if (strchr("-?:,[]{}#&*!|>'\"%@`. ", s[0]))
                return false;
        for (const char *p = s; *p; p++)
                if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._/-+", *p))
                        return false;
        return true;
}

static void yaml_scalar(FILE *f, pf_yaml_type type, const char *v) {
        if (type != PF_YAML_STR || (plain_safe(v) && !looks_typed(v))) {
                fputs(v, f);
                return;
        }
        fputc('"', f);
        write_escaped(f, v, true, false);
        fputc('"', f);
}

/* ---- YAML ---- */

static void indent(FILE *f, unsigned level, bool dash) {
        for (unsigned i = dash ? 1 : 0; i < level; i++)
                fputs("  ", f);
        if (dash)
                fputs("- ", f);
}

static bool has_entries(const pf_ynode *n) {
        for (const pf_ynode *c = n->first; c; c = c->next)
                if (c->kind != Y_COMMENT)
                        return true;
        return false;
}

static void yaml_nodes(FILE *f, const pf_ynode *first, unsigned level, bool dash);

static void yaml_comment(FILE *f, const pf_ynode *c, unsigned level) {
        indent(f, level, false);
        fputc('#', f);
        if (*c->value)
                fputc(' ', f);
        write_escaped(f, c->value, false, false);
        fputc('\n', f);
}

/* A sequence's items: each item's comments above its dash, its first entry on the dash line. */
static void yaml_items(FILE *f, const pf_ynode *seq, unsigned level) {
        for (const pf_ynode *it = seq->first; it; it = it->next) {
                if (it->kind == Y_COMMENT) {
                        yaml_comment(f, it, level + 1);
                        continue;
                }
                const pf_ynode *c = it->first;
                for (; c && c->kind == Y_COMMENT; c = c->next)
                        yaml_comment(f, c, level + 2);
                if (!c) {
                        indent(f, level + 2, true);
                        fputs("{}\n", f);
                        continue;
                }
                yaml_nodes(f, c, level + 2, true);
        }
}

static void yaml_node(FILE *f, const pf_ynode *n, unsigned level, bool dash) {
        if (n->kind == Y_COMMENT) {
                yaml_comment(f, n, level);
                return;
        }
        indent(f, level, dash);
        fprintf(f, "%s:", n->key);
        if (n->kind == Y_SCALAR) {
                fputc(' ', f);
                yaml_scalar(f, n->type, n->value);
        } else if (n->kind == Y_LIST) {
                fputs(" [", f);
                for (const pf_ynode *c = n->first; c; c = c->next) {
                        yaml_scalar(f, n->type, c->value);
                        if (c->next)
                                fputs(", ", f);
                }
                fputc(']', f);
        } else if (!has_entries(n)) {
                fputs(n->kind == Y_SEQ ? " []" : " {}", f);
        }
        fputc('\n', f);
        if (n->kind == Y_MAP && has_entries(n))
                yaml_nodes(f, n->first, level + 1, false);
        else if (n->kind == Y_SEQ && has_entries(n))
                yaml_items(f, n, level);
        else if (n->kind == Y_MAP || n->kind == Y_SEQ)
                yaml_nodes(f, n->first, level + 1, false);      /* its comments */
}

/* Entries from `first` on; with `dash`, the first one goes on a sequence item's dash line. */
static void yaml_nodes(FILE *f, const pf_ynode *first, unsigned level, bool dash) {
        for (const pf_ynode *n = first; n; n = n->next, dash = false)
                yaml_node(f, n, level, dash);
}

/* Asides go after the separator, with the document they come before (an aside after the
 * last document ends the stream with an empty one, which readers skip). */
static void write_yaml(FILE *f, const pf_ynode *root) {
        bool any = false, separated = false;
        for (const pf_ynode *n = root->first; n; n = n->next) {
                if (any && !separated)
                        fputs("---\n", f);
                separated = n->kind == Y_COMMENT;
                if (n->kind == Y_COMMENT) {
                        yaml_comment(f, n, 0);
                        continue;
                }
                any = true;
                yaml_nodes(f, n->first, 0, false);
        }
}

/* ---- JSON: {"resources": [documents], "comments": [{resource, path, text}]} ---- */

typedef struct json_comment {
        const char *resource, *path, *text;     /* resource NULL: an aside; path "": the document */
        struct json_comment *next;
} json_comment;

typedef struct json_out {
        FILE *f;
        const char *resource;           /* "Kind/name" of the document being written */
        pf_arena *a;
        json_comment *first, **tail;    /* in order */
} json_out;

static void json_string(FILE *f, const char *s) {
        fputc('"', f);
        write_escaped(f, s, true, true);
        fputc('"', f);
}

static void json_scalar(FILE *f, pf_yaml_type type, const char *v) {
        if (type == PF_YAML_STR)
                json_string(f, v);
        else
                fputs(v, f);
}

static void json_keep_comment(json_out *j, const char *path, const char *text) {
        json_comment *c = pf_arena_array(j->a, 1, sizeof(*c));
        *c = (json_comment) { .resource = j->resource, .path = path, .text = text };
        *j->tail = c;
        j->tail = &c->next;
}

static void json_object(json_out *j, const pf_ynode *n, const char *path, unsigned level);

static void json_value(json_out *j, const pf_ynode *n, const char *path, unsigned level) {
        if (n->kind == Y_SCALAR) {
                json_scalar(j->f, n->type, n->value);
        } else if (n->kind == Y_LIST) {
                fputc('[', j->f);
                for (const pf_ynode *c = n->first; c; c = c->next) {
                        json_scalar(j->f, n->type, c->value);
                        if (c->next)
                                fputs(", ", j->f);
                }
                fputc(']', j->f);
        } else if (n->kind == Y_SEQ) {
                fputc('[', j->f);
                size_t i = 0;
                for (const pf_ynode *it = n->first; it; it = it->next) {
                        const char *at = pf_arena_printf(j->a, "%s[%zu]", path, i);
                        if (it->kind == Y_COMMENT) {
                                json_keep_comment(j, path, it->value);
                                continue;
                        }
                        fputs(i++ ? ",\n" : "\n", j->f);
                        indent(j->f, level + 1, false);
                        json_object(j, it, at, level + 1);
                }
                if (i) {
                        fputc('\n', j->f);
                        indent(j->f, level, false);
                }
                fputc(']', j->f);
        } else {
                json_object(j, n, path, level);
        }
}

static void json_object(json_out *j, const pf_ynode *n, const char *path, unsigned level) {
        fputc('{', j->f);
        bool any = false;
        for (const pf_ynode *c = n->first; c; c = c->next) {
                if (c->kind == Y_COMMENT) {
                        json_keep_comment(j, path, c->value);
                        continue;
                }
                fputs(any ? ",\n" : "\n", j->f);
                any = true;
                indent(j->f, level + 1, false);
                json_string(j->f, c->key);
                fputs(": ", j->f);
                json_value(j, c, *path ? pf_arena_printf(j->a, "%s.%s", path, c->key) : c->key, level + 1);
        }
        if (any) {
                fputc('\n', j->f);
                indent(j->f, level, false);
        }
        fputc('}', j->f);
}

static const char *scalar_of(const pf_ynode *n, const char *key) {
        for (const pf_ynode *c = n ? n->first : NULL; c; c = c->next)
                if (c->key && !strcmp(c->key, key))
                        return c->kind == Y_SCALAR ? c->value : NULL;
        return NULL;
}

static const pf_ynode *child_of(const pf_ynode *n, const char *key) {
        for (const pf_ynode *c = n->first; c; c = c->next)
                if (c->key && !strcmp(c->key, key))
                        return c;
        return NULL;
}

static void json_comments(json_out *j) {
        fputs("  \"comments\": [", j->f);
        for (const json_comment *c = j->first; c; c = c->next) {
                fputs(c == j->first ? "\n    {" : ",\n    {", j->f);
                if (c->resource) {
                        fputs("\"resource\": ", j->f);
                        json_string(j->f, c->resource);
                        fputs(", ", j->f);
                }
                if (*c->path) {
                        fputs("\"path\": ", j->f);
                        json_string(j->f, c->path);
                        fputs(", ", j->f);
                }
                fputs("\"text\": ", j->f);
                json_string(j->f, c->text);
                fputc('}', j->f);
        }
        fputs(j->first ? "\n  ]\n" : "]\n", j->f);
}

static void write_json(FILE *f, const pf_ynode *root, pf_arena *a) {
        json_out j = { .f = f, .a = a };
        j.tail = &j.first;
        fputs("{\n  \"resources\": [", f);
        bool any = false;
        for (const pf_ynode *n = root->first; n; n = n->next) {
                if (n->kind == Y_COMMENT) {
                        j.resource = NULL;
                        json_keep_comment(&j, "", n->value);
                        continue;
                }
                const char *kind = scalar_of(n, "kind"), *name = scalar_of(child_of(n, "metadata"), "name");
                j.resource = pf_arena_printf(a, "%s/%s", kind ? kind : "?", name ? name : "?");
                fputs(any ? ",\n    " : "\n    ", f);
                any = true;
                json_object(&j, n, "", 2);
        }
        fputs(any ? "\n  ],\n" : "],\n", f);
        json_comments(&j);
        fputs("}\n", f);
}

void pf_yaml_out_write(pf_yaml_out *y, FILE *f) {
        if (y->format == PF_YAML_OUT_JSON)
                write_json(f, y->root, &y->arena);
        else
                write_yaml(f, y->root);
}

void pf_yaml_out_free(pf_yaml_out *y) {
        pf_arena_free(&y->arena);
        y->root = NULL;
        y->depth = 0;
}

void pf_yaml_out_finish(pf_yaml_out *y) {
        pf_yaml_out_write(y, y->f);
        pf_yaml_out_free(y);
}

static pf_ynode *copy_node(pf_yaml_out *to, const pf_ynode *n) {
        pf_ynode *c = node(to, n->kind, n->key, n->value);
        c->type = n->type;
        for (const pf_ynode *k = n->first; k; k = k->next)
                append(c, copy_node(to, k));
        return c;
}

void pf_yaml_out_append(pf_yaml_out *to, const pf_yaml_out *from) {
        for (const pf_ynode *n = from->root ? from->root->first : NULL; n; n = n->next)
                append(to->root, copy_node(to, n));
        to->depth = 1;
}
