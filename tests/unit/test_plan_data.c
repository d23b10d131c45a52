/* test_plan_data: the planner as data. Every tests/data/plan/NAME.want (sorted) and its
 * NAME.have describe a desired and a live object set; the plan built from them, as text (no
 * color unless asked) followed by the diagnostics, must equal NAME.plan byte for byte (as
 * `plan` prints it: one line per object) and NAME.plan-v (as `plan -v`: every field), and as
 * JSON (one line per action and per change, see json_pretty) NAME.json. Every plan is also
 * checked against the planner's invariants, and every JSON file against the schema.
 * PODFORM_REGENERATE=1 rewrites the expected files (review the diff). Adding a case is adding
 * files.
 *
 * The format, one object per block; '#' starts a comment line, blank lines are ignored:
 *
 *   # what this case shows            (the first line of every .want file)
 *   option prune                      (.want only: also allow-restart, color, no-host)
 *   network pods                      (a kind as pf_rkind_name spells it, then the name)
 *           active                    (indented: attributes of the object above)
 *           owned
 *           stale
 *           size 1073741824
 *           line 12[:5]               (declared at hosts/lab.yaml:12:5)
 *           needs pool default        (a kind, or "link" for any link kind: pf_need_link)
 *           field KEY = VALUE [live|restart|recreate] [sparse grow-only immutable hotplug
 *                 stops disrupts]
 *
 * VALUE is one word, or a double-quoted string with \" \\ \n \t \xHH; the landing is live
 * unless given. The live set goes through pf_objset_mark_used, as reconcile does, so a link
 * is in use exactly when an active object needs it. */
#include "config.h"

#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "golden.h"

#include "engine/obj.h"
#include "engine/plan.h"

#ifndef SRCDIR
#define SRCDIR "."
#endif

/* Where `line N` places a declaration; no text, so diagnostics quote no source line. */
static const pf_source SRC = { .path = "hosts/lab.yaml", .text = NULL, .len = 0 };

typedef struct pcase {
        pf_objset want, have;
        pf_plan_opts opts;
        bool color, no_host;            /* no-host: JSON for a plan of no named host */
} pcase;

/* ---- reading the data files ---- */

/* The state of one file being parsed: the object being filled and where errors point. */
typedef struct parser {
        const char *path;
        unsigned line;
        pf_objset *set;
        pcase *c;               /* options go here; NULL in a .have file */
        pf_fields fields;
        size_t idx;
        bool open;
        char err[512];
} parser;

__attribute__((format(printf, 2, 3))) static bool perr(parser *p, const char *fmt, ...) {
        int n = snprintf(p->err, sizeof(p->err), "%s:%u: ", p->path, p->line);
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->err + n, sizeof(p->err) - (size_t) n, fmt, ap);
        va_end(ap);
        return false;
}

/* next_word: the next word of *s into buf (a quoted string unescaped), *s moved past it.
 * Returns false at the end of the line or on a malformed quote (then p->err is set). */
static bool next_word(parser *p, const char **s, char *buf, size_t size, bool *quoted) {
        const char *q = *s;
        size_t n = 0;
        while (*q == ' ' || *q == '\t')
                q++;
        *quoted = *q == '"';
        if (!*q)
                return false;
        if (!*quoted) {
                while (*q && *q != ' ' && *q != '\t' && n + 1 < size)
                        buf[n++] = *q++;
                buf[n] = '\0';
                *s = q;
                return true;
        }
        for (q++; *q != '"'; q++) {
                if (!*q || n + 1 >= size)
                        return perr(p, "unterminated or overlong quoted string");
                char ch = *q;
                if (ch == '\\') {
                        q++;
                        if (*q == 'n')
                                ch = '\n';
                        else if (*q == 't')
                                ch = '\t';
                        else if (*q == '"' || *q == '\\')
                                ch = *q;
                        else if (*q == 'x' && isxdigit((unsigned char) q[1]) && isxdigit((unsigned char) q[2])) {
                                char hex[3] = { q[1], q[2], '\0' };
                                ch = (char) strtol(hex, NULL, 16);
                                q += 2;
                        } else
                                return perr(p, "unknown escape \\%c (use \\\" \\\\ \\n \\t \\xHH)", *q ? *q : ' ');
                }
                buf[n++] = ch;
        }
        buf[n] = '\0';
        *s = q + 1;
        return true;
}

static void flush(parser *p) {
        if (!p->open)
                return;
        pf_fields_finish(&p->fields, &p->set->objs.v[p->idx]);
        pf_fields_free(&p->fields);
        p->open = false;
}

static const char *const FLAG_NAMES[] = { "sparse", "grow-only", "immutable", "hotplug", "stops", "disrupts" };

/* field KEY = VALUE [landing] [flags...] */
static bool parse_field(parser *p, const char *s) {
        char key[1024], eq[8], value[4096], w[64];
        bool quoted;
        if (!next_word(p, &s, key, sizeof(key), &quoted) || quoted)
                return p->err[0] ? false : perr(p, "field: expected a key");
        if (!next_word(p, &s, eq, sizeof(eq), &quoted) || strcmp(eq, "="))
                return perr(p, "field %s: expected \"=\" after the key", key);
        if (!next_word(p, &s, value, sizeof(value), &quoted))
                return p->err[0] ? false : perr(p, "field %s: expected a value (\"\" for an empty one)", key);
        pf_landing landing = PF_LAND_LIVE;
        bool have_landing = false;
        unsigned flags = 0;
        while (next_word(p, &s, w, sizeof(w), &quoted)) {
                bool known = false;
                for (pf_landing l = 0; l < _PF_LAND_MAX; l++)
                        if (!strcmp(w, pf_landing_name(l))) {
                                if (have_landing)
                                        return perr(p, "field %s: a second landing \"%s\"", key, w);
                                landing = l;
                                have_landing = known = true;
                        }
                for (size_t f = 0; f < sizeof(FLAG_NAMES) / sizeof(FLAG_NAMES[0]); f++)
                        if (!strcmp(w, FLAG_NAMES[f])) {
                                flags |= 1u << f;
                                known = true;
                        }
                if (!known || quoted)
                        return perr(p, "field %s: \"%s\" is no landing (live, restart, recreate) or flag (sparse, "
                                       "grow-only, immutable, hotplug, stops, disrupts)", key, w);
        }
        if (p->err[0])
                return false;
        pf_field_add(&p->fields, landing, flags, value, "%s", key);
        return true;
}

static bool parse_number(parser *p, const char *word, const char *what, uint64_t *ret) {
        char *end;
        if (!isdigit((unsigned char) *word))
                return perr(p, "%s: expected a number, not \"%s\"", what, word);
        *ret = strtoull(word, &end, 10);
        return *end ? perr(p, "%s: expected a number, not \"%s\"", what, word) : true;
}

/* An indented line: one attribute of the current object. */
static bool parse_attr(parser *p, const char *s) {
        char w[64], a[1024], b[1024];
        bool quoted;
        next_word(p, &s, w, sizeof(w), &quoted);
        if (!p->open)
                return perr(p, "\"%s\" before any object (attributes are indented under \"KIND NAME\")", w);
        if (!strcmp(w, "field"))
                return parse_field(p, s);
        pf_obj *o = &p->set->objs.v[p->idx];
        bool has_a = next_word(p, &s, a, sizeof(a), &quoted), has_b = next_word(p, &s, b, sizeof(b), &quoted);
        if (!strcmp(w, "active") || !strcmp(w, "owned") || !strcmp(w, "stale")) {
                if (has_a)
                        return perr(p, "%s takes no argument", w);
                *(w[0] == 'a' ? &o->active : w[0] == 'o' ? &o->owned : &o->stale) = true;
                return true;
        }
        uint64_t n, col = 1;
        if (!strcmp(w, "size"))
                return has_a && !has_b ? parse_number(p, a, "size", &o->size) : perr(p, "size: expected one number");
        if (!strcmp(w, "line")) {
                char *colon = has_a ? strchr(a, ':') : NULL;
                if (colon)
                        *colon = '\0';
                if (!has_a || has_b || !parse_number(p, a, "line", &n) || (colon && !parse_number(p, colon + 1, "column", &col)))
                        return p->err[0] ? false : perr(p, "line: expected LINE or LINE:COLUMN");
                o->loc = (pf_loc) { .src = &SRC, .line = (uint32_t) n, .col = (uint32_t) col };
                return true;
        }
        if (!strcmp(w, "needs")) {
                if (!has_b || next_word(p, &s, w, sizeof(w), &quoted))
                        return perr(p, "needs: expected KIND NAME");
                if (!strcmp(a, "link"))
                        pf_need_link(&p->fields, b);
                else if (pf_rkind_lookup(a) == _PF_R_MAX)
                        return perr(p, "needs: unknown kind \"%s\"", a);
                else
                        pf_need_add(&p->fields, pf_rkind_lookup(a), b);
                return true;
        }
        return perr(p, "unknown attribute \"%s\" (active, owned, stale, size, line, needs, field)", w);
}

/* An unindented line: "option X" or "KIND NAME", which starts an object. */
static bool parse_head(parser *p, const char *s) {
        char w[64], name[1024], extra[8];
        bool quoted;
        next_word(p, &s, w, sizeof(w), &quoted);
        bool has_name = next_word(p, &s, name, sizeof(name), &quoted);
        if (!has_name || next_word(p, &s, extra, sizeof(extra), &quoted))
                return perr(p, "expected \"KIND NAME\" or \"option OPTION\"");
        if (!strcmp(w, "option")) {
                if (!p->c)
                        return perr(p, "options belong in the .want file");
                if (!strcmp(name, "prune"))
                        p->c->opts.prune = true;
                else if (!strcmp(name, "allow-restart"))
                        p->c->opts.allow_restart = true;
                else if (!strcmp(name, "color"))
                        p->c->color = true;
                else if (!strcmp(name, "no-host"))
                        p->c->no_host = true;
                else
                        return perr(p, "unknown option \"%s\" (prune, allow-restart, color, no-host)", name);
                return true;
        }
        pf_rkind kind = pf_rkind_lookup(w);
        if (kind == _PF_R_MAX)
                return perr(p, "unknown kind \"%s\" (bridge, macvlan, macvtap, pool, volume, network, vm)", w);
        /* a set holds each object once; the planner would meet only one of the two */
        if (pf_objset_find(p->set, kind, name))
                return perr(p, "%s %s appears twice", w, name);
        flush(p);
        pf_objset_add(p->set, kind, name);
        p->idx = p->set->objs.n - 1;
        pf_fields_init(&p->fields, &p->set->arena);
        p->open = true;
        return true;
}

/* name: parse_set -- fills s from the file at path; options go to c (NULL: none allowed).
 * On error returns false with "path:line: what is wrong" in err. */
static bool parse_set(const char *path, pf_objset *s, pcase *c, bool need_comment, char *err, size_t err_size) {
        parser p = { .path = path, .set = s, .c = c };
        size_t len;
        char *text = pf_golden_read(path, &len);
        if (!text) {
                snprintf(err, err_size, "%s: cannot read it", path);
                return false;
        }
        bool ok = true;
        if (need_comment && strncmp(text, "# ", 2) != 0) {
                p.line = 1;
                ok = perr(&p, "the first line must be a comment \"# what this case shows\"");
        }
        for (char *line = text, *next; ok && line < text + len; line = next) {
                char *nl = memchr(line, '\n', (size_t) (text + len - line));
                next = nl ? nl + 1 : text + len;
                if (nl)
                        *nl = '\0';
                p.line++;
                const char *q = line;
                while (*q == ' ' || *q == '\t')
                        q++;
                if (!*q || *q == '#')
                        continue;
                ok = q == line ? parse_head(&p, line) : parse_attr(&p, q);
        }
        flush(&p);
        free(text);
        if (!ok)
                snprintf(err, err_size, "%s", p.err);
        return ok;
}

/* ---- invariants every plan keeps ---- */

static void check_change(const pf_action *a) {
        assert_non_null(a->want);
        assert_non_null(a->have);
        assert_true(a->changes.n > 0);
        pf_landing max = PF_LAND_LIVE;
        bool stops = false;
        for (size_t c = 0; c < a->changes.n; c++) {
                if (a->changes.v[c].landing > max)
                        max = a->changes.v[c].landing;
                assert_false(a->changes.v[c].old_value == NULL && a->changes.v[c].new_value == NULL);
                if (c)
                        assert_true(strcmp(a->changes.v[c - 1].key, a->changes.v[c].key) < 0);
                const pf_field *f = pf_obj_field(a->want, a->changes.v[c].key);
                if (f && (f->flags & PF_FIELD_STOPS) && !strcmp(f->value, "no") && a->have->active)
                        stops = true;
                if (f && (f->flags & PF_FIELD_DISRUPTS) && a->have->active)
                        stops = true;
        }
        /* a VM still running an older definition restarts to take any change */
        if (a->have->stale && a->have->active && a->want->active && max < PF_LAND_RESTART)
                max = PF_LAND_RESTART;
        assert_int_equal(a->landing, max);
        /* disruptive: not live (a link: while something uses it), or live but stopping or
         * cutting off what runs */
        bool link = pf_rkind_is_link(a->kind);
        assert_int_equal(a->disruptive, (a->landing != PF_LAND_LIVE && (a->have->active || !link)) || stops);
        assert_int_equal(a->adopted, !a->have->owned);
        if (!a->have->active && !link)
                assert_int_equal(a->landing, PF_LAND_LIVE);
}

static void check_create(const pf_action *a) {
        assert_non_null(a->want);
        assert_null(a->have);
        assert_false(a->disruptive);
        assert_false(a->restart);
        assert_false(a->adopted);
        assert_int_equal(a->landing, PF_LAND_LIVE);
        /* a creation lists every desired field, none old */
        assert_int_equal(a->changes.n, a->want->fields.n);
        for (size_t c = 0; c < a->changes.n; c++) {
                assert_string_equal(a->changes.v[c].key, a->want->fields.v[c].key);
                assert_null(a->changes.v[c].old_value);
                assert_string_equal(a->changes.v[c].new_value, a->want->fields.v[c].value);
                assert_int_equal(a->changes.v[c].landing, PF_LAND_LIVE);
        }
}

/* name: check_invariants -- dependencies point to earlier actions; creations and changes in
 * kind order, then deletions in reverse kind order; counts agree with the actions. */
static void check_invariants(const pf_plan *p) {
        size_t n[3] = { 0 }, n_disruptive = 0;
        bool deleting = false;
        for (size_t i = 0; i < p->actions.n; i++) {
                const pf_action *a = &p->actions.v[i];
                for (size_t d = 0; d < a->deps.n; d++)
                        assert_true(a->deps.v[d] < i);
                const pf_action *b = i ? &p->actions.v[i - 1] : NULL;
                if (b && a->op != PF_OP_DELETE) {
                        assert_false(deleting);
                        assert_true(b->kind < a->kind || (b->kind == a->kind && strcmp(b->name, a->name) < 0));
                } else if (b && b->op == PF_OP_DELETE) {
                        assert_true(b->kind >= a->kind);
                }
                deleting = a->op == PF_OP_DELETE;
                n[a->op]++;
                if (a->op == PF_OP_CREATE)
                        check_create(a);
                else if (a->op == PF_OP_CHANGE)
                        check_change(a);
                else {
                        assert_null(a->want);
                        assert_non_null(a->have);
                        assert_true(a->have->owned);
                        assert_int_equal(a->changes.n, 0);
                        assert_int_equal(a->disruptive, a->have->active && a->kind == PF_R_DOMAIN);
                }
                n_disruptive += a->disruptive;
        }
        assert_int_equal(p->n_create, n[PF_OP_CREATE]);
        assert_int_equal(p->n_change, n[PF_OP_CHANGE]);
        assert_int_equal(p->n_delete, n[PF_OP_DELETE]);
        assert_int_equal(p->n_disruptive, n_disruptive);
        for (size_t i = 0; i < p->orphans.n; i++)
                assert_true(p->orphans.v[i].obj->owned);
}

/* ---- a strict JSON syntax check (RFC 8259), enough to say the output parses ---- */

static const char *js_ws(const char *s) {
        while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
                s++;
        return s;
}

static const char *js_string(const char *s) {
        if (*s++ != '"')
                return NULL;
        while (*s != '"') {
                if (!*s || (unsigned char) *s < 0x20)
                        return NULL;
                if (*s == '\\') {
                        s++;
                        if (*s == 'u') {
                                for (int i = 1; i <= 4; i++)
                                        if (!isxdigit((unsigned char) s[i]))
                                                return NULL;
                                s += 5;
                                continue;
                        }
                        if (!*s || !strchr("\"\\/bfnrt", *s))
                                return NULL;
                }
                s++;
        }
        return s + 1;
}

static const char *js_digits(const char *s) {
        if (!isdigit((unsigned char) *s))
                return NULL;
        while (isdigit((unsigned char) *s))
                s++;
        return s;
}

static const char *js_number(const char *s) {
        if (*s == '-')
                s++;
        if (*s == '0')
                s++;
        else if (!(s = js_digits(s)))
                return NULL;
        if (*s == '.' && !(s = js_digits(s + 1)))
                return NULL;
        if (*s == 'e' || *s == 'E') {
                s++;
                if (*s == '+' || *s == '-')
                        s++;
                s = js_digits(s);
        }
        return s;
}

static const char *js_value(const char *s, int depth) {
        s = js_ws(s);
        if (depth > 64)
                return NULL;
        if (*s == '{' || *s == '[') {
                char close = *s == '{' ? '}' : ']';
                s = js_ws(s + 1);
                if (*s == close)
                        return s + 1;
                for (;;) {
                        if (close == '}') {
                                if (!(s = js_string(js_ws(s))))
                                        return NULL;
                                s = js_ws(s);
                                if (*s++ != ':')
                                        return NULL;
                        }
                        if (!(s = js_value(s, depth + 1)))
                                return NULL;
                        s = js_ws(s);
                        if (*s == close)
                                return s + 1;
                        if (*s++ != ',')
                                return NULL;
                }
        }
        if (*s == '"')
                return js_string(s);
        if (!strncmp(s, "true", 4))
                return s + 4;
        if (!strncmp(s, "false", 5))
                return s + 5;
        if (!strncmp(s, "null", 4))
                return s + 4;
        return js_number(s);
}

static bool json_valid(const char *s) {
        s = js_value(s, 0);
        return s && *js_ws(s) == '\0';
}

static void test_json_checker(void **state) {
        (void) state;
        /* the checker itself rejects what it should, so passing it means something */
        assert_true(json_valid("{\"a\":[1,-2.5e3,true,false,null,\"x\\u00e9\\n\"],\"b\":{}}\n"));
        assert_false(json_valid("{\"a\":}"));
        assert_false(json_valid("{\"a\":1,}"));
        assert_false(json_valid("[1 2]"));
        assert_false(json_valid("{\"a\":\"x\ny\"}"));
        assert_false(json_valid("{\"a\":01}"));
        assert_false(json_valid("{\"a\":1}}"));
        assert_false(json_valid("{\"a\":\"\\q\"}"));
        assert_false(json_valid("{\"a\":1.}"));
}

/* json_pretty: the compact JSON podform prints, with a newline and two spaces of indent before
 * each member of the top object and each object in an array, so that a .json file reads one
 * action and one change a line. Only whitespace is added, outside strings: the compact text is
 * the file with those line breaks removed. */
static char *json_pretty(const char *s) {
        char *out = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&out, &len);
        enum { MAX_DEPTH = 64 };
        bool broken[MAX_DEPTH + 1] = { false }, in_str = false;       /* per nesting level */
        int depth = 0, level = 0;       /* open containers; of them, broken ones (the indent) */
        for (; *s; s++) {
                if (in_str) {
                        fputc(*s, f);
                        if (*s == '\\' && s[1])
                                fputc(*++s, f);
                        else if (*s == '"')
                                in_str = false;
                        continue;
                }
                if ((*s == '}' || *s == ']') && depth > 0) {
                        if (broken[depth])
                                fprintf(f, "\n%*s", 2 * --level, "");
                        depth--;
                }
                fputc(*s, f);
                if (*s == '"')
                        in_str = true;
                else if ((*s == '{' || *s == '[') && depth < MAX_DEPTH) {
                        /* the top object, and arrays of objects (actions, changes, orphans) */
                        depth++;
                        broken[depth] = (depth == 1 || (*s == '[' && s[1] == '{')) && s[1] != '}';
                        if (broken[depth])
                                fprintf(f, "\n%*s", 2 * ++level, "");
                } else if (*s == ',' && broken[depth])
                        fprintf(f, "\n%*s", 2 * level, "");
        }
        fclose(f);
        return out;
}

/* ---- the cases ---- */

/* The text plan (as `plan`, or as `plan -v`), then the diagnostics. */
static char *plan_text(const pf_plan *p, pf_diags *d, const pcase *c, bool verbose, size_t *len) {
        char *buf = NULL;
        FILE *f = open_memstream(&buf, len);
        assert_non_null(f);
        pf_plan_print_text(p, f, c->color, verbose);
        pf_diag_sort(d);
        pf_diag_print(d, f, false);
        assert_int_equal(fclose(f), 0);
        return buf;
}

static char *plan_json(const pf_plan *p, bool no_host) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        assert_non_null(f);
        pf_plan_print_json(p, f, no_host ? NULL : "lab-host", "qemu:///system", NULL);
        assert_int_equal(fclose(f), 0);
        if (!json_valid(buf))
                fail_msg("invalid JSON: %s", buf);
        char *pretty = json_pretty(buf);
        free(buf);
        return pretty;
}

/* name: test_case -- plan/NAME: parse both sides, plan, check, compare with the files. */
static void test_case(void **state) {
        const char *base = *state;      /* "plan/NAME" */
        char path[512], err[600];
        pcase c = { 0 };
        pf_objset_init(&c.want);
        pf_objset_init(&c.have);
        snprintf(path, sizeof(path), "%s.want", base);
        if (!parse_set(path, &c.want, &c, true, err, sizeof(err)))
                fail_msg("%s", err);
        snprintf(path, sizeof(path), "%s.have", base);
        if (!parse_set(path, &c.have, NULL, false, err, sizeof(err)))
                fail_msg("%s", err);
        pf_objset_index(&c.want);
        pf_objset_index(&c.have);
        pf_objset_mark_used(&c.have);

        pf_plan p;
        pf_diags d = { 0 };
        pf_plan_build(&p, &c.want, &c.have, &c.opts, &d);
        check_invariants(&p);
        size_t len;
        char *text = plan_text(&p, &d, &c, false, &len);
        snprintf(path, sizeof(path), "%s.plan", base);
        pf_golden_check(path, text, len);
        free(text);
        text = plan_text(&p, &d, &c, true, &len);
        snprintf(path, sizeof(path), "%s.plan-v", base);
        pf_golden_check(path, text, len);
        char *json = plan_json(&p, c.no_host);
        snprintf(path, sizeof(path), "%s.json", base);
        pf_golden_check(path, json, strlen(json));
        free(text);
        free(json);
        pf_plan_free(&p);
        pf_diag_free(&d);
        pf_objset_free(&c.want);
        pf_objset_free(&c.have);
}

/* A parse error names the file and line and says what is wrong. */
static void test_parse_errors(void **state) {
        (void) state;
        static const struct { const char *text, *err; } cases[] = {
                { "network n\n        field forward nat\n", "x.want:2: field forward: expected \"=\" after the key" },
                { "network n\n        field mode = bridge fast\n", "x.want:2: field mode: \"fast\" is no landing" },
                { "net n\n", "x.want:1: unknown kind \"net\"" },
                { "        active\n", "x.want:1: \"active\" before any object" },
                { "vm a\n        size big\n", "x.want:2: size: expected a number, not \"big\"" },
                { "vm a\n        field note = \"open\n", "x.want:2: unterminated or overlong quoted string" },
                { "vm a\n        needs nothing x\n", "x.want:2: needs: unknown kind \"nothing\"" },
                { "option prune\n", "x.want:1: options belong in the .want file" },
                { "vm a\nvm b\n\nvm a\n", "x.want:4: vm a appears twice" },
        };
        char dir[] = "/tmp/test_plan_data.XXXXXX", path[64], err[600];
        assert_non_null(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/x.want", dir);
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                FILE *f = fopen(path, "w");
                assert_non_null(f);
                fputs(cases[i].text, f);
                assert_int_equal(fclose(f), 0);
                pf_objset s;
                pf_objset_init(&s);
                bool ok = parse_set(path, &s, NULL, false, err, sizeof(err));
                pf_objset_free(&s);
                assert_false(ok);
                const char *rel = strstr(err, "x.want:");
                if (!rel || strncmp(rel, cases[i].err, strlen(cases[i].err)) != 0)
                        fail_msg("case %zu: got \"%s\", expected \"%s...\"", i, err, cases[i].err);
        }
        unlink(path);
        rmdir(dir);
}

/* Every expected JSON plan validates against schemas/plan.schema.json (python3-jsonschema). */
static void test_json_schema(void **state) {
        (void) state;
        const char *python = getenv("PYTHON");
        if (!python || !*python || !strcmp(python, ":"))
                python = "python3";
        char cmd[1024];
        snprintf(cmd, sizeof(cmd), "%s -c 'import jsonschema' >/dev/null 2>&1", python);
        if (system(cmd) != 0) {
                print_message("skipped: %s has no jsonschema module (apt-get install python3-jsonschema)\n", python);
                skip();
        }
        snprintf(cmd, sizeof(cmd),
                 "%s -c 'import glob, json, sys, jsonschema\n"
                 "schema = json.load(open(sys.argv[1]))\n"
                 "cls = jsonschema.validators.validator_for(schema)\n"
                 "cls.check_schema(schema)\n"
                 "bad = 0\n"
                 "for p in sorted(glob.glob(\"plan/*.json\")):\n"
                 "    for e in cls(schema).iter_errors(json.load(open(p))):\n"
                 "        bad += 1\n"
                 "        print(\"%%s: %%s: %%s\" %% (p, \"/\".join(map(str, e.absolute_path)), e.message))\n"
                 "sys.exit(1 if bad else 0)' '%s'",
                 python, SRCDIR "/schemas/plan.schema.json");
        if (system(cmd) != 0)
                fail_msg("the plans of tests/data/plan do not validate against schemas/plan.schema.json");
}

/* The case names, "plan/NAME" for every plan/NAME.want, sorted. */
/* The cases, "plan/NAME" each (NAME.want without its suffix). */
static char **list_cases(size_t *n) {
        char **names = pf_golden_list("plan", ".want", n);
        for (size_t i = 0; i < *n; i++)
                names[i][strlen(names[i]) - strlen(".want")] = '\0';
        return names;
}

int main(void) {
        if (chdir(SRCDIR "/tests/data") != 0) {
                perror("chdir " SRCDIR "/tests/data");
                return 1;
        }
        size_t n;
        char **names = list_cases(&n);
        struct CMUnitTest *tests = calloc(n + 3, sizeof(*tests));
        tests[0] = (struct CMUnitTest) { .name = "json_checker", .test_func = test_json_checker };
        tests[1] = (struct CMUnitTest) { .name = "parse_errors", .test_func = test_parse_errors };
        for (size_t i = 0; i < n; i++)
                tests[i + 2] = (struct CMUnitTest) { .name = names[i], .test_func = test_case, .initial_state = names[i] };
        /* last: it reads the .json files the cases may just have rewritten */
        tests[n + 2] = (struct CMUnitTest) { .name = "json_schema", .test_func = test_json_schema };
        int failed = _cmocka_run_group_tests("plan-data", tests, n + 3, NULL, NULL);
        pf_golden_list_free(names, n);
        free(tests);
        return failed;
}
