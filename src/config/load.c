/* load.c: YAML nodes -> model, through one table-driven walker.
 *
 * Each mapping of the format is a pf_table of {key, parser, offset of the value, offset of its
 * pf_loc}. The walker reports unknown keys (with "did you mean"), duplicate keys, wrong types
 * and bad values, and keeps going so that one run reports every error. Checks that involve more
 * than one field live in validate.c. */
#include "config.h"
#include "config/load.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/values.h"
#include "config/yaml.h"
#include "model/names.h"
#include "util/suggest.h"
#include "util/xalloc.h"

_Static_assert(sizeof(pf_kind) == sizeof(int), "enums are stored as int");

#define NOLOC ((size_t) -1)

typedef struct walk {
        pf_config *cfg;
        const pf_source *src;
        uint64_t visits, budget;
        bool over_budget;
        pf_loc doc_loc;
        pf_loc key_loc;         /* the key whose value is being parsed; unset for list entries */
} walk;

typedef struct field field;
typedef bool parse_fn(walk *w, const pf_node *n, void *base, const field *f);
struct field {
        const char *key;
        parse_fn *parse;
        size_t offset, loc_offset;
        const void *arg;
        bool required;
        bool entry;             /* an entry of the list named `key` */
};

typedef struct table {
        const char *what;               /* "interface", "Subnet spec" */
        const field *fields;
        size_t n;
        size_t self_loc;                /* where the mapping's own position goes, or NOLOC */
        /* cross-field checks of this mapping; `at` is where to report them */
        void (*finish)(walk *w, const pf_node *n, pf_loc at, void *base);
} table;

typedef struct seq {
        size_t elem_size;
        parse_fn *parse;
        const void *arg;
        size_t elem_loc;                /* offset of the element's pf_loc, or NOLOC */
} seq;

typedef struct choice {
        const char *group;              /* "binding", "backend" */
        const char *owner;              /* "interface", "network" */
        size_t value_offset, value_loc_offset;
        int value;
        parse_fn *parse;                /* the content, or NULL: an empty mapping */
        const void *arg;
} choice;

typedef struct range { uint64_t min, max; } range;
typedef struct drange { double min, max; } drange;

static pf_loc loc_of(const walk *w, const pf_node *n) {
        return (pf_loc) { w->src, n->line, n->col };
}

static pf_diags *D(walk *w) { return &w->cfg->diags; }

static void *at(void *base, size_t off) { return (char *) base + off; }

static void set_loc(walk *w, const pf_node *n, void *base, const field *f) {
        if (f->loc_offset != NOLOC)
                *(pf_loc *) at(base, f->loc_offset) = loc_of(w, n);
}

static const char *type_name(const pf_node *n) {
        if (pf_node_is_null(n))
                return "empty";
        switch (n->type) {
        case PF_NODE_MAPPING: return "a mapping";
        case PF_NODE_SEQUENCE: return "a sequence";
        default: return "a scalar";
        }
}

static bool has_key(const pf_node *n, const char *key) {
        for (size_t i = 0; n->type == PF_NODE_MAPPING && i < n->n; i++)
                if (n->items[2 * i]->type == PF_NODE_SCALAR && strcmp(n->items[2 * i]->value, key) == 0)
                        return true;
        return false;
}

/* Every node entered counts against the document's budget, which aliases cannot escape. */
static bool visit(walk *w) {
        if (++w->visits <= w->budget)
                return true;
        if (!w->over_budget) {
                w->over_budget = true;
                pf_error(D(w), w->doc_loc,
                         "document expands to more than %llu nodes through YAML aliases; "
                         "aliases may not be used to build large structures",
                         (unsigned long long) w->budget);
        }
        return false;
}

/* ---- scalars ---- */

/* How a message names the value of field f: "ports", or each entry of "ports". */
static const char *label(const field *f, char *buf, size_t size) {
        snprintf(buf, size, f->entry ? "each entry of \"%s\"" : "\"%s\"", f->key);
        return buf;
}

/* The text of a scalar node, or NULL after an error that says what was expected. */
static const char *scalar(walk *w, const pf_node *n, const field *f, const char *expected) {
        char l[96];
        if (n->type != PF_NODE_SCALAR || pf_node_is_null(n)) {
                pf_error(D(w), loc_of(w, n), "%s must be %s, not %s", label(f, l, sizeof(l)), expected, type_name(n));
                return NULL;
        }
        if (memchr(n->value, '\0', n->len)) {
                pf_error(D(w), loc_of(w, n), "%s contains a NUL byte", label(f, l, sizeof(l)));
                return NULL;
        }
        return n->value;
}

static bool value_error(walk *w, const pf_node *n, const field *f, const char *why) {
        char q[PF_QUOTE_MAX];
        pf_quote(q, sizeof(q), n->value, n->len);
        if (f->entry)
                pf_error(D(w), loc_of(w, n), "%s in %s %s", q, f->key, why);
        else
                pf_error(D(w), loc_of(w, n), "%s %s %s", f->key, q, why);
        return false;
}

static bool p_string(walk *w, const pf_node *n, void *base, const field *f) {
        const char *s = scalar(w, n, f, "a string");
        if (!s)
                return false;
        *(const char **) at(base, f->offset) = s;
        set_loc(w, n, base, f);
        return true;
}

static bool checked_string(walk *w, const pf_node *n, void *base, const field *f,
                           const char *(*check)(const char *, size_t)) {
        const char *s = scalar(w, n, f, "a string");
        if (!s)
                return false;
        const char *why = check(s, n->len);
        if (why)
                return value_error(w, n, f, why);
        *(const char **) at(base, f->offset) = s;
        set_loc(w, n, base, f);
        return true;
}

static bool p_name(walk *w, const pf_node *n, void *base, const field *f) {
        return checked_string(w, n, base, f, pf_check_name);
}

static bool p_ifname(walk *w, const pf_node *n, void *base, const field *f) {
        return checked_string(w, n, base, f, pf_check_ifname);
}

static bool p_host_or_ip(walk *w, const pf_node *n, void *base, const field *f) {
        return checked_string(w, n, base, f, pf_check_host_or_ip);
}

static const char *check_abspath(const char *s, size_t len) {
        if (s[0] != '/')
                return "is not an absolute path";
        if (len > 4095)
                return "is longer than PATH_MAX";
        return NULL;
}

static bool p_abspath(walk *w, const pf_node *n, void *base, const field *f) {
        return checked_string(w, n, base, f, check_abspath);
}

static const char *check_api_version(const char *s, size_t len) {
        (void) len;
        return strcmp(s, "podform/v1") == 0 ? NULL : "is not supported: this podform reads podform/v1";
}

static bool p_api_version(walk *w, const pf_node *n, void *base, const field *f) {
        return checked_string(w, n, base, f, check_api_version);
}

static bool p_bool(walk *w, const pf_node *n, void *base, const field *f) {
        const char *s = scalar(w, n, f, "true or false");
        if (!s)
                return false;
        bool v;
        if (n->plain && (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE")))
                v = true;
        else if (n->plain && (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE")))
                v = false;
        else
                return value_error(w, n, f, "is not a boolean: write true or false (unquoted)");
        *(bool *) at(base, f->offset) = v;
        set_loc(w, n, base, f);
        return true;
}

static bool p_uint(walk *w, const pf_node *n, void *base, const field *f) {
        const range *r = f->arg;
        const char *s = scalar(w, n, f, "an integer");
        if (!s)
                return false;
        uint64_t v = 0;
        bool ok = n->plain && *s;
        for (const char *p = s; ok && *p; p++) {
                if (*p < '0' || *p > '9')
                        ok = false;
                else if (v <= r->max)   /* past max it is out of range; stop counting */
                        v = v * 10 + (uint64_t) (*p - '0');
        }
        char why[96];
        if (!ok || v < r->min || v > r->max) {
                snprintf(why, sizeof(why), "%s: expected an integer from %llu to %llu",
                         ok ? "is out of range" : "is not an integer",
                         (unsigned long long) r->min, (unsigned long long) r->max);
                return value_error(w, n, f, why);
        }
        *(unsigned *) at(base, f->offset) = (unsigned) v;
        set_loc(w, n, base, f);
        return true;
}

static bool p_double(walk *w, const pf_node *n, void *base, const field *f) {
        const drange *r = f->arg;
        const char *s = scalar(w, n, f, "a number");
        if (!s)
                return false;
        char *end;
        errno = 0;
        double v = strtod(s, &end);
        char why[96];
        if (!n->plain || end == s || *end || errno || !isfinite(v) || v <= r->min || v > r->max) {
                snprintf(why, sizeof(why), "is not a valid ratio: expected a number above %g and at most %g",
                         r->min, r->max);
                return value_error(w, n, f, why);
        }
        *(double *) at(base, f->offset) = v;
        set_loc(w, n, base, f);
        return true;
}

static bool enum_value(walk *w, const pf_node *n, const pf_enum *e, const char *s, int *ret) {
        int v = pf_enum_lookup(e, s);
        if (v >= 0) {
                *ret = v;
                return true;
        }
        char q[PF_QUOTE_MAX];
        const char *hint = pf_suggest(s, e->names, e->n);
        if (hint) {
                pf_error(D(w), loc_of(w, n), "unknown %s %s; did you mean \"%s\"?", e->what,
                         pf_quote(q, sizeof(q), s, n->len), hint);
        } else {
                char list[256] = "";
                for (size_t i = 0; i < e->n; i++) {
                        if (!e->names[i])
                                continue;
                        if (*list)
                                strncat(list, ", ", sizeof(list) - strlen(list) - 1);
                        strncat(list, e->names[i], sizeof(list) - strlen(list) - 1);
                }
                pf_error(D(w), loc_of(w, n), "unknown %s %s; expected one of: %s", e->what,
                         pf_quote(q, sizeof(q), s, n->len), list);
        }
        return false;
}

static bool p_enum(walk *w, const pf_node *n, void *base, const field *f) {
        const pf_enum *e = f->arg;
        const char *s = scalar(w, n, f, "a string");
        int v = 0;
        if (!s || !enum_value(w, n, e, s, &v))
                return false;
        *(int *) at(base, f->offset) = v;
        set_loc(w, n, base, f);
        return true;
}

#define VALUE_PARSER(fname, type, call)                                          \
        static bool fname(walk *w, const pf_node *n, void *base, const field *f) { \
                const char *s = scalar(w, n, f, "a string");                     \
                if (!s)                                                          \
                        return false;                                            \
                type v = { 0 };                                                  \
                const char *why = call;                                          \
                if (why)                                                         \
                        return value_error(w, n, f, why);                        \
                *(type *) at(base, f->offset) = v;                               \
                set_loc(w, n, base, f);                                          \
                return true;                                                     \
        }
VALUE_PARSER(p_mac, pf_mac, pf_parse_mac(s, &v))
VALUE_PARSER(p_pci, pf_pci, pf_parse_pci(s, &v))
VALUE_PARSER(p_ip, pf_ip, pf_parse_ip(s, &v))
VALUE_PARSER(p_host_cidr, pf_cidr, pf_parse_cidr(s, false, &v))
VALUE_PARSER(p_ip_range, pf_ip_range, pf_parse_ip_range(s, &v))

/* A network CIDR: host bits set is the classic slip, so the message names the network. */
static bool p_net_cidr(walk *w, const pf_node *n, void *base, const field *f) {
        const char *s = scalar(w, n, f, "a string");
        if (!s)
                return false;
        pf_cidr v;
        const char *why = pf_parse_cidr(s, true, &v);
        if (why && !pf_parse_cidr(s, false, &v)) {
                char net[64], msg[128];
                pf_cidr nw = pf_cidr_network(&v);
                snprintf(msg, sizeof(msg), "has host bits set; did you mean \"%s\"?", pf_cidr_format(&nw, net));
                return value_error(w, n, f, msg);
        }
        if (why)
                return value_error(w, n, f, why);
        *(pf_cidr *) at(base, f->offset) = v;
        set_loc(w, n, base, f);
        return true;
}

static bool p_quantity(walk *w, const pf_node *n, void *base, const field *f) {
        const char *s = scalar(w, n, f, "a quantity like 2Gi");
        if (!s)
                return false;
        uint64_t v;
        const char *why = pf_parse_quantity(s, &v);
        if (why && strstr(why, "no unit")) {
                char msg[160];
                const char *unit = f->arg ? f->arg : "Gi";
                snprintf(msg, sizeof(msg), "has no unit; a bare number is ambiguous: write %.20s%s (binary) or %.20s%c (decimal)",
                         s, unit, s, unit[0]);
                return value_error(w, n, f, msg);
        }
        if (why)
                return value_error(w, n, f, why);
        *(uint64_t *) at(base, f->offset) = v;
        set_loc(w, n, base, f);
        return true;
}

/* ---- collections ---- */

static bool walk_table(walk *w, const pf_node *n, void *base, const table *t, const char *what, pf_loc here);

/* Where a collection is reported: at its key ("nat:"), or for a list entry, at the entry. */
static pf_loc collection_loc(const walk *w, const pf_node *n) {
        return pf_loc_set(w->key_loc) ? w->key_loc : loc_of(w, n);
}

static bool p_map(walk *w, const pf_node *n, void *base, const field *f) {
        pf_loc here = collection_loc(w, n);
        if (f->loc_offset != NOLOC)
                *(pf_loc *) at(base, f->loc_offset) = here;
        char l[96];
        return walk_table(w, n, at(base, f->offset), f->arg, label(f, l, sizeof(l)), here);
}

static bool p_seq(walk *w, const pf_node *n, void *base, const field *f) {
        const seq *s = f->arg;
        pf_loc here = collection_loc(w, n);
        if (pf_node_is_null(n)) {
                if (f->loc_offset != NOLOC)
                        *(pf_loc *) at(base, f->loc_offset) = here;
                return true;
        }
        if (n->type != PF_NODE_SEQUENCE) {
                char l[96];
                pf_error(D(w), loc_of(w, n), "%s must be a sequence, not %s", label(f, l, sizeof(l)), type_name(n));
                return false;
        }
        if (f->loc_offset != NOLOC)
                *(pf_loc *) at(base, f->loc_offset) = here;
        char *v = pf_arena_array(&w->cfg->arena, n->n, s->elem_size);
        field ef = { .key = f->key, .parse = s->parse, .offset = 0, .loc_offset = s->elem_loc, .arg = s->arg, .entry = true };
        bool ok = true;
        size_t kept = 0;
        for (size_t i = 0; i < n->n && visit(w); i++) {
                w->key_loc = (pf_loc) { 0 };
                char *elem = v + kept * s->elem_size;
                bool elem_ok = ef.parse(w, n->items[i], elem, &ef);
                ok &= elem_ok;
                /* A scalar entry that failed holds nothing; a mapping keeps what did parse, so
                 * that one bad key does not make its siblings look missing. */
                if (elem_ok || n->items[i]->type == PF_NODE_MAPPING)
                        kept++;
                else
                        memset(elem, 0, s->elem_size);
        }
        struct { void *v; size_t n; } list = { v, kept };
        memcpy(at(base, f->offset), &list, sizeof(list));
        return ok;
}

static bool p_choice(walk *w, const pf_node *n, void *base, const field *f) {
        const choice *c = f->arg;
        int *value = at(base, c->value_offset);
        pf_loc *value_loc = at(base, c->value_loc_offset);
        pf_loc key = collection_loc(w, n);
        if (*value != 0) {
                pf_error(D(w), key, "%s has a second %s \"%s\" (line %u already gives one); keep only one",
                         c->owner, c->group, f->key, value_loc->line);
                return false;
        }
        *value = c->value;
        *value_loc = key;
        if (!c->parse) {
                static const table empty = { .what = NULL, .n = 0, .self_loc = NOLOC };
                char l[96];
                return walk_table(w, n, base, &empty, label(f, l, sizeof(l)), key);
        }
        field inner = *f;
        inner.parse = c->parse;
        inner.arg = c->arg;
        return inner.parse(w, n, base, &inner);
}

static int label_cmp(const void *a, const void *b) {
        const pf_label *x = *(pf_label *const *) a, *y = *(pf_label *const *) b;
        int r = strcmp(x->key, y->key);
        if (r)
                return r;
        if (x->loc.line != y->loc.line)
                return x->loc.line < y->loc.line ? -1 : 1;
        return x->loc.col < y->loc.col ? -1 : x->loc.col > y->loc.col;
}

static bool p_labels(walk *w, const pf_node *n, void *base, const field *f) {
        if (pf_node_is_null(n))
                return true;
        if (n->type != PF_NODE_MAPPING) {
                pf_error(D(w), loc_of(w, n), "\"%s\" must be a mapping of strings, not %s", f->key, type_name(n));
                return false;
        }
        set_loc(w, n, base, f);
        pf_label *v = pf_arena_array(&w->cfg->arena, n->n, sizeof(*v));
        size_t k = 0;
        bool ok = true;
        for (size_t i = 0; i < n->n && visit(w); i++) {
                const pf_node *key = n->items[2 * i], *val = n->items[2 * i + 1];
                field kf = { .key = "label key" }, vf = { .key = "label value" };
                const char *ks = scalar(w, key, &kf, "a string");
                const char *vs = scalar(w, val, &vf, "a string");
                if (!ks || !vs) {
                        ok = false;
                        continue;
                }
                v[k++] = (pf_label) { ks, vs, loc_of(w, key) };
        }
        /* Duplicate keys: compare neighbours after a sort, O(n log n) for large label sets. */
        pf_label **sorted = pf_xcalloc(k, sizeof(*sorted));
        for (size_t i = 0; i < k; i++)
                sorted[i] = &v[i];
        qsort(sorted, k, sizeof(*sorted), label_cmp);
        for (size_t i = 1; i < k; i++)
                if (strcmp(sorted[i]->key, sorted[i - 1]->key) == 0) {
                        const pf_label *first = sorted[i - 1], *again = sorted[i];
                        char q[PF_QUOTE_MAX];
                        pf_error(D(w), again->loc, "duplicate label %s (first given at line %u)",
                                 pf_quote(q, sizeof(q), again->key, strlen(again->key)), first->loc.line);
                        ok = false;
                }
        free(sorted);
        struct { void *v; size_t n; } list = { v, k };
        memcpy(at(base, f->offset), &list, sizeof(list));
        return ok;
}

static bool walk_table(walk *w, const pf_node *n, void *base, const table *t, const char *what, pf_loc here) {
        bool ok = true;
        if (!pf_node_is_null(n) && n->type != PF_NODE_MAPPING) {
                pf_error(D(w), loc_of(w, n), "%s must be a mapping, not %s", what, type_name(n));
                return false;
        }
        if (t->self_loc != NOLOC)
                *(pf_loc *) at(base, t->self_loc) = here;
        uint32_t first_line[64] = { 0 };
        uint64_t seen = 0, suggested = 0;
        size_t pairs = n->type == PF_NODE_MAPPING ? n->n : 0;
        for (size_t i = 0; i < pairs && visit(w); i++) {
                const pf_node *k = n->items[2 * i], *v = n->items[2 * i + 1];
                if (k->type != PF_NODE_SCALAR || pf_node_is_null(k)) {
                        pf_error(D(w), loc_of(w, k), "mapping keys must be strings, not %s", type_name(k));
                        ok = false;
                        continue;
                }
                size_t j = 0;
                while (j < t->n && strcmp(t->fields[j].key, k->value) != 0)
                        j++;
                char q[PF_QUOTE_MAX];
                if (j == t->n || (seen & (1ULL << j)))  /* quoted only for the messages below */
                        pf_quote(q, sizeof(q), k->value, k->len);
                if (j == t->n) {
                        ok = false;
                        if (strcmp(k->value, "<<") == 0) {
                                pf_error(D(w), loc_of(w, k),
                                         "YAML merge keys (\"<<\") are not supported; write the keys out, or alias a whole value");
                                continue;
                        }
                        if (t->n == 0) {
                                pf_error(D(w), loc_of(w, k), "unknown key %s: %s takes no keys; write {}", q, what);
                                continue;
                        }
                        const char *names[64];
                        for (size_t x = 0; x < t->n; x++)
                                names[x] = t->fields[x].key;
                        const char *hint = pf_suggest(k->value, names, t->n);
                        if (hint) {
                                pf_error(D(w), loc_of(w, k), "unknown key %s in %s; did you mean \"%s\"?", q, t->what, hint);
                                for (size_t x = 0; x < t->n; x++)
                                        if (names[x] == hint)
                                                suggested |= 1ULL << x;
                        } else {
                                char list[512] = "";
                                for (size_t x = 0; x < t->n; x++) {
                                        if (x)
                                                strncat(list, ", ", sizeof(list) - strlen(list) - 1);
                                        strncat(list, names[x], sizeof(list) - strlen(list) - 1);
                                }
                                pf_error(D(w), loc_of(w, k), "unknown key %s in %s; expected one of: %s", q, t->what, list);
                        }
                        continue;
                }
                if (seen & (1ULL << j)) {
                        pf_error(D(w), loc_of(w, k), "duplicate key %s (first given at line %u)", q, first_line[j]);
                        ok = false;
                        continue;
                }
                seen |= 1ULL << j;
                first_line[j] = k->line;
                w->key_loc = loc_of(w, k);
                ok &= t->fields[j].parse(w, v, base, &t->fields[j]);
        }
        /* A misspelt required key has had its "did you mean"; it is not also "missing". */
        for (size_t j = 0; j < t->n; j++)
                if (t->fields[j].required && !(seen & (1ULL << j)) && !(suggested & (1ULL << j))) {
                        pf_error(D(w), here, "%s is missing the required key \"%s\"", t->what, t->fields[j].key);
                        ok = false;
                }
        if (t->finish)
                t->finish(w, n, here, base);
        return ok;
}

/* ---- the format, one table per mapping ---- */

#define FLD(T, k, fn, m, a)  { k, fn, offsetof(T, m), offsetof(T, m##_loc), a, false, false }
#define REQ(T, k, fn, m, a)  { k, fn, offsetof(T, m), offsetof(T, m##_loc), a, true, false }
/* A nested mapping whose fields live in the same struct (overcommit.cpu -> overcommit_cpu). */
#define SUB(T, k, tbl, m_loc) { k, p_map, 0, m_loc, &tbl, false, false }
#define TABLE(ident, label, T, self, fin, ...)                                           \
        static const field ident##_fields[] = { __VA_ARGS__ };                           \
        static const table ident = { label, ident##_fields,                              \
                                     sizeof(ident##_fields) / sizeof(field), self, fin }
#define SEQ(ident, T, fn, a, eloc) static const seq ident = { sizeof(T), fn, a, eloc }
#define CHOICE(ident, T, grp, own, val, fn, a) \
        static const choice ident = { grp, own, offsetof(T, val##_field_), offsetof(T, val##_field_loc_), 0, fn, a }

static const range r_vlan = { 0, 4094 }, r_mtu = { 68, 65535 }, r_port = { 1, 65535 },
                   r_delay = { 0, 30 }, r_net_delay = { 0, 3600 }, r_prefix = { 0, 128 },
                   r_boot_order = { 1, 65535 }, r_cores = { 1, 1024 }, r_sockets = { 1, 64 },
                   r_threads = { 1, 8 };
static const drange r_ratio = { 0.0, 100.0 };

SEQ(seq_ifnames, pf_name, p_ifname, NULL, offsetof(pf_name, loc));
SEQ(seq_names, pf_name, p_name, NULL, offsetof(pf_name, loc));
SEQ(seq_cidrs, pf_cidr_item, p_host_cidr, NULL, offsetof(pf_cidr_item, loc));
SEQ(seq_reserved, pf_ip_range, p_ip_range, NULL, offsetof(pf_ip_range, loc));
SEQ(seq_boot, pf_boot, p_enum, &pf_boot_dev_enum, offsetof(pf_boot, loc));

TABLE(meta_table, "metadata", pf_meta, NOLOC, NULL,
      REQ(pf_meta, "name", p_string, name, NULL),
      FLD(pf_meta, "host", p_name, host, NULL),
      FLD(pf_meta, "labels", p_labels, labels, NULL));

/* Host */
TABLE(overcommit_table, "overcommit", pf_host, NOLOC, NULL,
      FLD(pf_host, "cpu", p_double, overcommit_cpu, &r_ratio),
      FLD(pf_host, "memory", p_double, overcommit_memory, &r_ratio));
TABLE(host_table, "Host spec", pf_host, NOLOC, NULL,
      FLD(pf_host, "connect", p_string, connect, NULL),
      FLD(pf_host, "attachPolicy", p_enum, attach_policy, &pf_attach_policy_enum),
      FLD(pf_host, "defaultMacvlanMode", p_enum, default_macvlan_mode, &pf_macvlan_mode_enum),
      FLD(pf_host, "defaultStoragePool", p_name, default_storage_pool, NULL),
      SUB(pf_host, "overcommit", overcommit_table, NOLOC),
      FLD(pf_host, "permitBridgeOnPodNetwork", p_bool, permit_bridge_on_pod_network, NULL),
      FLD(pf_host, "prune", p_bool, prune, NULL));

/* Subnet */
TABLE(subnet_table, "Subnet spec", pf_subnet, NOLOC, NULL,
      REQ(pf_subnet, "cidr", p_net_cidr, cidr, NULL),
      FLD(pf_subnet, "vlan", p_uint, vlan, &r_vlan),
      FLD(pf_subnet, "fabric", p_name, fabric, NULL),
      FLD(pf_subnet, "space", p_name, space, NULL),
      FLD(pf_subnet, "dhcp", p_enum, dhcp, &pf_subnet_dhcp_enum),
      FLD(pf_subnet, "gateway", p_ip, gateway, NULL),
      FLD(pf_subnet, "reserved", p_seq, reserved, &seq_reserved),
      FLD(pf_subnet, "interfaces", p_seq, interfaces, &seq_ifnames));

/* Bridge */
TABLE(bridge_table, "Bridge spec", pf_bridge, NOLOC, NULL,
      FLD(pf_bridge, "ports", p_seq, ports, &seq_ifnames),
      FLD(pf_bridge, "stp", p_bool, stp, NULL),
      FLD(pf_bridge, "forwardDelay", p_uint, forward_delay, &r_delay),
      FLD(pf_bridge, "mtu", p_uint, mtu, &r_mtu),
      FLD(pf_bridge, "macAddress", p_mac, mac_address, NULL),
      FLD(pf_bridge, "addresses", p_seq, addresses, &seq_cidrs),
      FLD(pf_bridge, "state", p_enum, state, &pf_link_state_enum));

/* Macvtap, Macvlan */
TABLE(macvlan_table, "Macvlan spec", pf_macvlan, NOLOC, NULL,
      REQ(pf_macvlan, "parent", p_ifname, parent, NULL),
      FLD(pf_macvlan, "mode", p_enum, mode, &pf_macvlan_mode_enum),
      FLD(pf_macvlan, "macAddress", p_mac, mac_address, NULL),
      FLD(pf_macvlan, "addresses", p_seq, addresses, &seq_cidrs),
      FLD(pf_macvlan, "state", p_enum, state, &pf_link_state_enum));
/* The same shape; validate.c explains why a Macvtap takes no addresses. */
static const table macvtap_table = { "Macvtap spec", macvlan_table_fields,
                                     sizeof(macvlan_table_fields) / sizeof(field), NOLOC, NULL };

/* Network */
TABLE(range_table, "DHCP range", pf_ip_range, offsetof(pf_ip_range, loc), NULL,
      REQ(pf_ip_range, "start", p_ip, start, NULL),
      REQ(pf_ip_range, "end", p_ip, end, NULL));
static void dhcp_host_finish(walk *w, const pf_node *n, pf_loc here, void *base) {
        (void) base;
        if (n->type == PF_NODE_MAPPING && !has_key(n, "mac") && !has_key(n, "name"))
                pf_error(D(w), here, "DHCP host needs \"mac\" or \"name\" so that the DHCP server can recognise it");
}
TABLE(dhcp_host_table, "DHCP host", pf_dhcp_host, offsetof(pf_dhcp_host, loc), dhcp_host_finish,
      FLD(pf_dhcp_host, "mac", p_mac, mac, NULL),
      REQ(pf_dhcp_host, "ip", p_ip, ip, NULL),
      FLD(pf_dhcp_host, "name", p_name, name, NULL));
SEQ(seq_ranges, pf_ip_range, p_map, &range_table, NOLOC);
SEQ(seq_dhcp_hosts, pf_dhcp_host, p_map, &dhcp_host_table, NOLOC);
TABLE(bootp_table, "bootp", pf_net_ip, NOLOC, NULL,
      REQ(pf_net_ip, "file", p_string, bootp_file, NULL),
      FLD(pf_net_ip, "server", p_host_or_ip, bootp_server, NULL));
TABLE(dhcp_table, "dhcp", pf_net_ip, NOLOC, NULL,
      FLD(pf_net_ip, "ranges", p_seq, dhcp_ranges, &seq_ranges),
      FLD(pf_net_ip, "hosts", p_seq, dhcp_hosts, &seq_dhcp_hosts),
      SUB(pf_net_ip, "bootp", bootp_table, offsetof(pf_net_ip, bootp_loc)));
TABLE(net_ip_table, "ips entry", pf_net_ip, offsetof(pf_net_ip, loc), NULL,
      REQ(pf_net_ip, "address", p_ip, address, NULL),
      REQ(pf_net_ip, "prefix", p_uint, prefix, &r_prefix),
      SUB(pf_net_ip, "dhcp", dhcp_table, offsetof(pf_net_ip, dhcp_loc)));
SEQ(seq_net_ips, pf_net_ip, p_map, &net_ip_table, NOLOC);
TABLE(net_bridge_table, "bridge", pf_network, NOLOC, NULL,
      FLD(pf_network, "name", p_ifname, bridge_name, NULL),
      FLD(pf_network, "stp", p_bool, bridge_stp, NULL),
      FLD(pf_network, "delay", p_uint, bridge_delay, &r_net_delay));
TABLE(nat_ports_table, "nat ports", pf_network, NOLOC, NULL,
      REQ(pf_network, "start", p_uint, nat_port_start, &r_port),
      REQ(pf_network, "end", p_uint, nat_port_end, &r_port));
TABLE(nat_table, "nat", pf_network, NOLOC, NULL,
      SUB(pf_network, "ports", nat_ports_table, NOLOC));
TABLE(network_table, "Network spec", pf_network, NOLOC, NULL,
      FLD(pf_network, "forward", p_enum, forward, &pf_forward_enum),
      FLD(pf_network, "interfaces", p_seq, interfaces, &seq_ifnames),
      SUB(pf_network, "bridge", net_bridge_table, offsetof(pf_network, bridge_loc)),
      SUB(pf_network, "nat", nat_table, offsetof(pf_network, nat_loc)),
      FLD(pf_network, "domain", p_host_or_ip, domain, NULL),
      FLD(pf_network, "mtu", p_uint, mtu, &r_mtu),
      FLD(pf_network, "ips", p_seq, ips, &seq_net_ips),
      FLD(pf_network, "autostart", p_bool, autostart, NULL),
      FLD(pf_network, "active", p_bool, active, NULL));

/* StoragePool */
TABLE(pool_table, "StoragePool spec", pf_pool, NOLOC, NULL,
      FLD(pf_pool, "type", p_enum, type, &pf_pool_type_enum),
      REQ(pf_pool, "path", p_abspath, path, NULL),
      FLD(pf_pool, "autostart", p_bool, autostart, NULL));

/* VirtualMachine */
static bool p_storage(walk *w, const pf_node *n, void *base, const field *f);
static bool p_disks(walk *w, const pf_node *n, void *base, const field *f);

TABLE(kv_disk_table, "disk", pf_disk, NOLOC, NULL,
      FLD(pf_disk, "bus", p_enum, bus, &pf_disk_bus_enum));
TABLE(disk_table, "disk", pf_disk, offsetof(pf_disk, loc), NULL,
      REQ(pf_disk, "name", p_name, name, NULL),
      FLD(pf_disk, "size", p_quantity, size, "Gi"),
      FLD(pf_disk, "pool", p_name, pool, NULL),
      FLD(pf_disk, "format", p_enum, format, &pf_disk_format_enum),
      FLD(pf_disk, "bus", p_enum, bus, &pf_disk_bus_enum),
      FLD(pf_disk, "bootOrder", p_uint, boot_order, &r_boot_order),
      SUB(pf_disk, "disk", kv_disk_table, NOLOC));
SEQ(seq_disks, pf_disk, p_map, &disk_table, NOLOC);

TABLE(port_table, "port", pf_port, offsetof(pf_port, loc), NULL,
      FLD(pf_port, "name", p_name, name, NULL),
      REQ(pf_port, "port", p_uint, port, &r_port),
      FLD(pf_port, "protocol", p_enum, protocol, &pf_protocol_enum));
SEQ(seq_ports, pf_port, p_map, &port_table, NOLOC);

TABLE(macvtap_binding_table, "macvtap binding", pf_iface, NOLOC, NULL,
      FLD(pf_iface, "mode", p_enum, macvtap_mode, &pf_macvlan_mode_enum));

#define BINDING(ident, val, fn, a) \
        static const choice ident = { "binding", "interface", offsetof(pf_iface, binding), \
                                      offsetof(pf_iface, binding_loc), val, fn, a }
BINDING(bind_bridge, PF_BINDING_BRIDGE, NULL, NULL);
BINDING(bind_macvtap, PF_BINDING_MACVTAP, p_map, &macvtap_binding_table);
BINDING(bind_masquerade, PF_BINDING_MASQUERADE, NULL, NULL);
BINDING(bind_slirp, PF_BINDING_SLIRP, NULL, NULL);
BINDING(bind_sriov, PF_BINDING_SRIOV, NULL, NULL);

static void iface_finish(walk *w, const pf_node *n, pf_loc here, void *base) {
        pf_iface *i = base;
        if (i->binding == PF_BINDING_NONE && n->type == PF_NODE_MAPPING)
                pf_error(D(w), here,
                         "interface has no binding; add exactly one of: bridge, macvtap, masquerade, slirp, sriov (e.g. bridge: {})");
}
TABLE(iface_table, "interface", pf_iface, offsetof(pf_iface, loc), iface_finish,
      REQ(pf_iface, "name", p_name, name, NULL),
      { "bridge", p_choice, 0, NOLOC, &bind_bridge, false, false },
      { "macvtap", p_choice, 0, NOLOC, &bind_macvtap, false, false },
      { "masquerade", p_choice, 0, NOLOC, &bind_masquerade, false, false },
      { "slirp", p_choice, 0, NOLOC, &bind_slirp, false, false },
      { "sriov", p_choice, 0, NOLOC, &bind_sriov, false, false },
      FLD(pf_iface, "model", p_enum, model, &pf_nic_model_enum),
      FLD(pf_iface, "macAddress", p_mac, mac_address, NULL),
      FLD(pf_iface, "pciAddress", p_pci, pci_address, NULL),
      FLD(pf_iface, "bootOrder", p_uint, boot_order, &r_boot_order),
      FLD(pf_iface, "ports", p_seq, ports, &seq_ports),
      FLD(pf_iface, "bootFileName", p_string, boot_file_name, NULL),
      FLD(pf_iface, "tftpServerName", p_host_or_ip, tftp_server_name, NULL));
SEQ(seq_ifaces, pf_iface, p_map, &iface_table, NOLOC);

TABLE(pod_table, "pod", pf_vm_net, NOLOC, NULL,
      FLD(pf_vm_net, "vmNetworkCIDR", p_net_cidr, pod_vm_network_cidr, NULL));
TABLE(multus_table, "multus", pf_vm_net, NOLOC, NULL,
      REQ(pf_vm_net, "networkName", p_name, network_name, NULL),
      FLD(pf_vm_net, "default", p_bool, multus_default, NULL));
TABLE(genie_table, "genie", pf_vm_net, NOLOC, NULL,
      REQ(pf_vm_net, "networkName", p_name, network_name, NULL));
/* Checks of which keys are given look at the YAML, not at the values: a key with a bad value
 * has had its own error and still counts as given. */
static void host_net_finish(walk *w, const pf_node *n, pf_loc here, void *base) {
        (void) base;
        if (n->type != PF_NODE_MAPPING && !pf_node_is_null(n))
                return;
        if (has_key(n, "interface") == has_key(n, "pci"))
                pf_error(D(w), here, "host network needs exactly one of \"interface\" (a host link) or \"pci\" (a PCI device)");
}
TABLE(host_net_table, "host network", pf_vm_net, NOLOC, host_net_finish,
      FLD(pf_vm_net, "interface", p_ifname, host_interface, NULL),
      FLD(pf_vm_net, "pci", p_pci, host_pci, NULL));
static void constraints_finish(walk *w, const pf_node *n, pf_loc here, void *base) {
        (void) base;
        if (pf_node_is_null(n) || (n->type == PF_NODE_MAPPING && n->n == 0))
                pf_error(D(w), here, "constraints are empty; give at least one of space, subnet, vlan, fabric, ip, mode, type");
}
TABLE(constraints_table, "constraints", pf_vm_net, NOLOC, constraints_finish,
      FLD(pf_vm_net, "space", p_name, c_space, NULL),
      FLD(pf_vm_net, "subnet", p_name, c_subnet, NULL),
      FLD(pf_vm_net, "vlan", p_uint, c_vlan, &r_vlan),
      FLD(pf_vm_net, "fabric", p_name, c_fabric, NULL),
      FLD(pf_vm_net, "ip", p_ip, c_ip, NULL),
      FLD(pf_vm_net, "mode", p_enum, c_mode, &pf_macvlan_mode_enum),
      FLD(pf_vm_net, "type", p_enum, c_type, &pf_constraint_type_enum));

#define BACKEND(ident, val, fn, a) \
        static const choice ident = { "backend", "network", offsetof(pf_vm_net, backend), \
                                      offsetof(pf_vm_net, backend_loc), val, fn, a }
BACKEND(be_pod, PF_BACKEND_POD, p_map, &pod_table);
BACKEND(be_multus, PF_BACKEND_MULTUS, p_map, &multus_table);
BACKEND(be_genie, PF_BACKEND_GENIE, p_map, &genie_table);
BACKEND(be_network, PF_BACKEND_NETWORK, p_name, NULL);
BACKEND(be_host, PF_BACKEND_HOST, p_map, &host_net_table);
BACKEND(be_constraints, PF_BACKEND_CONSTRAINTS, p_map, &constraints_table);
BACKEND(be_macvtap, PF_BACKEND_MACVTAP, p_ifname, NULL);

static void vm_net_finish(walk *w, const pf_node *n, pf_loc here, void *base) {
        pf_vm_net *v = base;
        if (v->backend == PF_BACKEND_NONE && n->type == PF_NODE_MAPPING)
                pf_error(D(w), here,
                         "network has no backend; add exactly one of: pod, multus, genie, network, host, constraints, macvtap");
}
TABLE(vm_net_table, "network", pf_vm_net, offsetof(pf_vm_net, loc), vm_net_finish,
      REQ(pf_vm_net, "name", p_name, name, NULL),
      { "pod", p_choice, 0, NOLOC, &be_pod, false, false },
      { "multus", p_choice, 0, NOLOC, &be_multus, false, false },
      { "genie", p_choice, 0, NOLOC, &be_genie, false, false },
      { "network", p_choice, offsetof(pf_vm_net, network), offsetof(pf_vm_net, network_loc), &be_network, false, false },
      { "host", p_choice, 0, NOLOC, &be_host, false, false },
      { "constraints", p_choice, 0, NOLOC, &be_constraints, false, false },
      { "macvtap", p_choice, offsetof(pf_vm_net, macvtap), offsetof(pf_vm_net, macvtap_loc), &be_macvtap, false, false });
SEQ(seq_vm_nets, pf_vm_net, p_map, &vm_net_table, NOLOC);

TABLE(cloud_init_table, "cloudInitNoCloud", pf_volume, NOLOC, NULL,
      FLD(pf_volume, "userData", p_string, user_data, NULL),
      FLD(pf_volume, "networkData", p_string, network_data, NULL));
static void volume_finish(walk *w, const pf_node *n, pf_loc here, void *base) {
        (void) base;
        if (!has_key(n, "cloudInitNoCloud") && n->type == PF_NODE_MAPPING)
                pf_error(D(w), here, "volume has no source; podform supports cloudInitNoCloud volumes");
}
TABLE(volume_table, "volume", pf_volume, offsetof(pf_volume, loc), volume_finish,
      FLD(pf_volume, "name", p_name, name, NULL),
      SUB(pf_volume, "cloudInitNoCloud", cloud_init_table, offsetof(pf_volume, cloud_init_loc)));
SEQ(seq_volumes, pf_volume, p_map, &volume_table, NOLOC);

TABLE(cpu_table, "cpu", pf_vm, NOLOC, NULL,
      FLD(pf_vm, "cores", p_uint, cores, &r_cores),
      FLD(pf_vm, "sockets", p_uint, sockets, &r_sockets),
      FLD(pf_vm, "threads", p_uint, threads, &r_threads));
TABLE(devices_table, "devices", pf_vm, NOLOC, NULL,
      FLD(pf_vm, "disks", p_disks, disks, &seq_disks),
      FLD(pf_vm, "interfaces", p_seq, interfaces, &seq_ifaces),
      FLD(pf_vm, "networkInterfaceMultiqueue", p_bool, multiqueue, NULL),
      FLD(pf_vm, "autoattachPodInterface", p_bool, autoattach_pod_interface, NULL));
TABLE(domain_table, "domain", pf_vm, NOLOC, NULL,
      FLD(pf_vm, "type", p_enum, type, &pf_domain_type_enum),
      FLD(pf_vm, "arch", p_name, arch, NULL),
      FLD(pf_vm, "machine", p_name, machine, NULL),
      SUB(pf_vm, "cpu", cpu_table, NOLOC),
      FLD(pf_vm, "memory", p_quantity, memory, "Mi"),
      FLD(pf_vm, "boot", p_seq, boot, &seq_boot),
      SUB(pf_vm, "devices", devices_table, NOLOC));

static void vm_finish(walk *w, const pf_node *n, pf_loc here, void *base);
TABLE(vm_table, "VirtualMachine spec", pf_vm, NOLOC, vm_finish,
      FLD(pf_vm, "running", p_bool, running, NULL),
      FLD(pf_vm, "autostart", p_bool, autostart, NULL),
      FLD(pf_vm, "pool", p_name, pool, NULL),
      FLD(pf_vm, "tags", p_seq, tags, &seq_names),
      SUB(pf_vm, "domain", domain_table, NOLOC),
      FLD(pf_vm, "storage", p_storage, storage, NULL),
      FLD(pf_vm, "networks", p_seq, networks, &seq_vm_nets),
      FLD(pf_vm, "volumes", p_seq, volumes, &seq_volumes));

/* storage: and domain.devices.disks say the same thing; whichever comes second is the error. */
static bool storage_exclusive(walk *w, const pf_node *n, const char *second, const char *first, pf_loc first_loc) {
        pf_error(D(w), loc_of(w, n), "\"%s\" cannot be combined with %s given at line %u; use one of them",
                 second, first, first_loc.line);
        return false;
}

static bool p_disks(walk *w, const pf_node *n, void *base, const field *f) {
        pf_vm *vm = base;
        if (pf_loc_set(vm->storage_loc))
                return storage_exclusive(w, n, "disks", "the storage shorthand", vm->storage_loc);
        return p_seq(w, n, base, f);
}

/* The MAAS shorthand "label:size(pool),label:size": bare sizes are decimal GB, as in MAAS.
 * Errors point at the character inside the string when it is written on one line. */
static bool p_storage(walk *w, const pf_node *n, void *base, const field *f) {
        pf_vm *vm = base;
        const char *s = scalar(w, n, f, "a string like \"root:32(pool1),home:64\"");
        if (!s)
                return false;
        if (pf_loc_set(vm->disks_loc))
                return storage_exclusive(w, n, "storage", "domain.devices.disks", vm->disks_loc);
        vm->storage = s;
        vm->storage_loc = loc_of(w, n);
        size_t count = 1;
        for (const char *p = s; *p; p++)
                count += *p == ',';
        pf_disk *disks = pf_arena_array(&w->cfg->arena, count, sizeof(*disks));
        size_t nd = 0;
        bool ok = true;
        const char *p = s;
        for (size_t i = 0; i < count; i++) {
                while (*p == ' ')
                        p++;
                const char *entry = p;
                const char *end = strchr(p, ',');
                if (!end)
                        end = p + strlen(p);
                size_t elen = (size_t) (end - p);
                while (elen && entry[elen - 1] == ' ')
                        elen--;
                pf_loc at_entry = loc_of(w, n);
                if (n->single_line)
                        at_entry.col += (uint32_t) (entry - s) + (n->quoted ? 1 : 0);
                char *e = pf_arena_strndup(&w->cfg->arena, entry, elen);
                char *colon = strchr(e, ':');
                char *paren = strchr(e, '(');
                size_t elen_chars = strlen(e);
                const char *why = NULL;
                size_t why_off = 0;
                char *label = e, *size = NULL, *pool = NULL;
                if (!colon || (paren && paren < colon)) {
                        why = "is not LABEL:SIZE or LABEL:SIZE(POOL)";
                } else {
                        *colon = '\0';
                        size = colon + 1;
                        if (paren) {
                                *paren = '\0';
                                pool = paren + 1;
                                if (elen_chars == 0 || e[elen_chars - 1] != ')') {
                                        why = "has no closing ')' after the pool name";
                                        why_off = elen_chars;
                                } else {
                                        e[elen_chars - 1] = '\0';
                                }
                        }
                }
                pf_disk d = { .from_storage = true, .loc = at_entry, .name_loc = at_entry };
                if (!why && !*label)
                        why = "has no label before ':'";
                else if (!why && pf_check_name(label, strlen(label)))
                        why = "has a label that is not a name: letters, digits, '_', '.' and '-', at most 63";
                if (!why) {
                        /* A bare number is GB, as MAAS reads it. */
                        char q[64];
                        size_t slen = strlen(size);
                        bool bare = slen && strspn(size, "0123456789.") == slen;
                        if (slen + 2 > sizeof(q)) {
                                why = "has a size that is too long";
                        } else {
                                snprintf(q, sizeof(q), bare ? "%sG" : "%s", size);
                                if (!slen)
                                        why = "has no size after ':'";
                                else if ((why = pf_parse_quantity(q, &d.size)))
                                        why = strstr(why, "unit") ? "has a size that is neither a number of GB nor a quantity like 32Gi" : why;
                        }
                        why_off = (size_t) (size - e);
                }
                if (!why && pool && pf_check_name(pool, strlen(pool))) {
                        why = "has a pool that is not a name: letters, digits, '_', '.' and '-', at most 63";
                        why_off = (size_t) (pool - e);
                }
                if (why) {
                        char qbuf[PF_QUOTE_MAX];
                        pf_loc l = at_entry;
                        if (n->single_line)
                                l.col += (uint32_t) why_off;
                        pf_error(D(w), l, "storage entry %s %s", pf_quote(qbuf, sizeof(qbuf), entry, elen), why);
                        ok = false;
                } else {
                        d.name = label;
                        d.pool = pool;
                        d.size_loc = d.pool_loc = at_entry;
                        if (!pool)
                                d.pool_loc = (pf_loc) { 0 };
                        disks[nd++] = d;
                }
                p = *end ? end + 1 : end;
        }
        vm->disks.v = disks;
        vm->disks.n = nd;
        return ok;
}

static void vm_finish(walk *w, const pf_node *n, pf_loc here, void *base) {
        (void) n, (void) here;
        pf_vm *vm = base;
        /* KubeVirt: no interfaces and no networks means one bridge NIC on the pod network. */
        if (vm->autoattach_pod_interface && vm->interfaces.n == 0 && vm->networks.n == 0 &&
            !pf_loc_set(vm->interfaces_loc) && !pf_loc_set(vm->networks_loc)) {
                pf_iface *i = pf_arena_alloc(&w->cfg->arena, sizeof(*i));
                *i = (pf_iface) { .name = "default", .binding = PF_BINDING_BRIDGE, .implicit = true };
                pf_vm_net *v = pf_arena_alloc(&w->cfg->arena, sizeof(*v));
                *v = (pf_vm_net) { .name = "default", .backend = PF_BACKEND_POD };
                vm->interfaces.v = i;
                vm->interfaces.n = 1;
                vm->networks.v = v;
                vm->networks.n = 1;
        }
}

/* ---- documents ---- */

typedef struct kind_info {
        const table *spec;
        size_t size;
        size_t list_offset;             /* of the PF_LIST in pf_model */
        bool link;                      /* its name is a kernel interface name */
        void (*init)(void *resource, pf_arena *arena);    /* the defaults */
} kind_info;

void pf_host_defaults(pf_host *h) {
        *h = (pf_host) { 0 };
        h->connect = "qemu:///system";
        h->default_macvlan_mode = PF_MACVLAN_BRIDGE;
        h->default_storage_pool = "default";
        h->overcommit_cpu = h->overcommit_memory = 1.0;
        h->permit_bridge_on_pod_network = true;
}
static void host_init(void *r, pf_arena *a) { (void) a; pf_host_defaults(r); }
static void network_init(void *r, pf_arena *a) {
        (void) a;
        pf_network *n = r;
        n->bridge_stp = n->autostart = n->active = true;
}
static void pool_init(void *r, pf_arena *a) { (void) a; ((pf_pool *) r)->autostart = true; }
static void macvtap_init(void *r, pf_arena *a) { (void) a; ((pf_macvlan *) r)->kind = PF_KIND_MACVTAP; }
static void macvlan_init(void *r, pf_arena *a) { (void) a; ((pf_macvlan *) r)->kind = PF_KIND_MACVLAN; }
static void vm_init(void *r, pf_arena *a) {
        pf_vm *vm = r;
        /* each VM its own list, so nothing can write through one VM into another's default */
        pf_boot *default_boot = pf_arena_array(a, 2, sizeof(*default_boot));
        default_boot[0] = (pf_boot) { .dev = PF_BOOT_NETWORK };
        default_boot[1] = (pf_boot) { .dev = PF_BOOT_HD };
        vm->running = true;
        vm->arch = "x86_64";
        vm->cores = vm->sockets = vm->threads = 1;
        vm->memory = 2ULL << 30;        /* MAAS compose's default */
        vm->boot.v = default_boot;
        vm->boot.n = 2;
        vm->autoattach_pod_interface = true;
}

static const kind_info kinds[_PF_KIND_MAX] = {
        [PF_KIND_HOST] = { &host_table, sizeof(pf_host), offsetof(pf_model, hosts), false, host_init },
        [PF_KIND_SUBNET] = { &subnet_table, sizeof(pf_subnet), offsetof(pf_model, subnets), false, NULL },
        [PF_KIND_BRIDGE] = { &bridge_table, sizeof(pf_bridge), offsetof(pf_model, bridges), true, NULL },
        [PF_KIND_MACVTAP] = { &macvtap_table, sizeof(pf_macvlan), offsetof(pf_model, macvtaps), true, macvtap_init },
        [PF_KIND_MACVLAN] = { &macvlan_table, sizeof(pf_macvlan), offsetof(pf_model, macvlans), true, macvlan_init },
        [PF_KIND_NETWORK] = { &network_table, sizeof(pf_network), offsetof(pf_model, networks), false, network_init },
        [PF_KIND_STORAGE_POOL] = { &pool_table, sizeof(pf_pool), offsetof(pf_model, pools), false, pool_init },
        [PF_KIND_VIRTUAL_MACHINE] = { &vm_table, sizeof(pf_vm), offsetof(pf_model, vms), false, vm_init },
};

/* Resources are appended to growing arrays; pointers into them are stable once loading ends. */
typedef struct anylist { void *v; size_t n; } anylist;

static void *append_resource(pf_config *c, pf_kind kind) {
        const kind_info *k = &kinds[kind];
        anylist l;
        memcpy(&l, at(&c->model, k->list_offset), sizeof(l));
        if ((l.n & (l.n - 1)) == 0)     /* grow at powers of two */
                l.v = pf_xreallocarray(l.v, l.n ? 2 * l.n : 1, k->size);
        void *r = at(l.v, l.n * k->size);
        memset(r, 0, k->size);
        l.n++;
        memcpy(at(&c->model, k->list_offset), &l, sizeof(l));
        return r;
}

/* `kind` is read before the walk (it chooses spec's table); the walk only marks it as seen. */
static bool p_kind_seen(walk *w, const pf_node *n, void *base, const field *f) {
        (void) w, (void) n, (void) base, (void) f;
        return true;
}

static bool p_skip(walk *w, const pf_node *n, void *base, const field *f) {
        (void) w, (void) n, (void) base, (void) f;
        return true;
}

static void load_document(walk *w, const pf_yaml_doc *doc) {
        const pf_node *root = doc->root;
        w->visits = 0;
        w->budget = 4 * (uint64_t) doc->n_nodes + 10000;
        w->over_budget = false;
        w->doc_loc = (pf_loc) { w->src, doc->line, doc->col };
        if (!root || pf_node_is_null(root))
                return;         /* an empty document, e.g. after a trailing "---" */
        if (root->type != PF_NODE_MAPPING) {
                pf_error(D(w), loc_of(w, root),
                         "a document must be a mapping with apiVersion, kind, metadata and spec, not %s", type_name(root));
                return;
        }
        int kind = -1;
        const pf_node *kind_node = NULL;
        for (size_t i = 0; i < root->n; i++) {
                const pf_node *k = root->items[2 * i];
                if (k->type == PF_NODE_SCALAR && strcmp(k->value, "kind") == 0) {
                        kind_node = root->items[2 * i + 1];
                        break;
                }
        }
        if (kind_node) {
                field kf = { .key = "kind" };
                const char *s = scalar(w, kind_node, &kf, "a string");
                if (s)
                        enum_value(w, kind_node, &pf_kind_enum, s, &kind);      /* reports a bad kind */
        }
        pf_meta scratch_meta;
        void *res;
        bool has_required = false;
        if (kind >= 0) {
                res = append_resource(w->cfg, (pf_kind) kind);
                if (kinds[kind].init)
                        kinds[kind].init(res, &w->cfg->arena);
                for (size_t j = 0; j < kinds[kind].spec->n; j++)
                        has_required |= kinds[kind].spec->fields[j].required;
                w->cfg->n_resources++;
        } else {
                memset(&scratch_meta, 0, sizeof(scratch_meta));
                res = &scratch_meta;
        }
        pf_meta *meta = res;     /* every resource starts with its pf_meta */
        const table *spec = kind >= 0 ? kinds[kind].spec : NULL;
        const field top_fields[] = {
                { "apiVersion", p_api_version, offsetof(pf_meta, api_version), offsetof(pf_meta, api_version_loc), NULL, true, false },
                { "kind", p_kind_seen, 0, offsetof(pf_meta, kind_loc), NULL, true, false },
                { "metadata", p_map, 0, NOLOC, &meta_table, true, false },
                { "spec", spec ? p_map : p_skip, 0, NOLOC, spec, has_required, false },
        };
        char what[48];
        snprintf(what, sizeof(what), "%s document", kind >= 0 ? pf_kind_enum.names[kind] : "the");
        const table top = { what, top_fields, 4, offsetof(pf_meta, loc), NULL };
        size_t errors_before = D(w)->n_errors;
        w->key_loc = (pf_loc) { 0 };
        walk_table(w, root, res, &top, "the document", loc_of(w, root));
        if (kind_node)
                meta->kind_loc = loc_of(w, kind_node);

        bool spec_given = false;
        for (size_t i = 0; i < root->n; i++)
                spec_given |= root->items[2 * i]->type == PF_NODE_SCALAR && !strcmp(root->items[2 * i]->value, "spec");
        if (spec && !spec_given && spec->finish) {
                static const pf_node null_node = { .type = PF_NODE_SCALAR, .plain = true, .value = "" };
                spec->finish(w, &null_node, loc_of(w, root), res);
        }

        if (meta->name) {
                bool link = kind >= 0 && kinds[kind].link;
                const char *why = link ? pf_check_ifname(meta->name, strlen(meta->name))
                                       : pf_check_name(meta->name, strlen(meta->name));
                if (why) {
                        char q[PF_QUOTE_MAX];
                        pf_error(D(w), meta->name_loc, "%s name %s %s%s", kind >= 0 ? pf_kind_enum.names[kind] : "resource",
                                 pf_quote(q, sizeof(q), meta->name, strlen(meta->name)), why,
                                 link ? " (it is the name of a host link)" : "");
                }
        }
        meta->load_failed = D(w)->n_errors > errors_before;
}

void pf_config_init(pf_config *c) {
        memset(c, 0, sizeof(*c));
}

void pf_config_free(pf_config *c) {
        for (size_t k = 0; k < _PF_KIND_MAX; k++) {
                if (!kinds[k].spec)
                        continue;       /* a kind not loaded yet */
                anylist l;
                memcpy(&l, at(&c->model, kinds[k].list_offset), sizeof(l));
                free(l.v);
        }
        pf_diag_free(&c->diags);
        pf_arena_free(&c->arena);
        memset(c, 0, sizeof(*c));
}

static void load_source(pf_config *c, const pf_source *src) {
        pf_yaml_docs docs;
        c->n_files++;
        pf_yaml_parse(&c->arena, src, &c->diags, &docs);
        walk w = { .cfg = c, .src = src };
        for (size_t i = 0; i < docs.n; i++)
                load_document(&w, &docs.v[i]);
        free(docs.v);
}

void pf_config_load_buffer(pf_config *c, const char *name, const char *text, size_t len) {
        pf_source *src = pf_arena_alloc(&c->arena, sizeof(*src));
        src->path = pf_arena_strdup(&c->arena, name);
        src->text = pf_arena_strndup(&c->arena, text, len);
        src->len = len;
        load_source(c, src);
}

/* A source without text: for errors about the file itself. */
static pf_loc file_loc(pf_config *c, const char *path) {
        pf_source *src = pf_arena_alloc(&c->arena, sizeof(*src));
        src->path = pf_arena_strdup(&c->arena, path);
        return (pf_loc) { src, 0, 0 };
}

static void load_file(pf_config *c, const char *path) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0) {
                pf_error(&c->diags, file_loc(c, path), "cannot read the file: %s", strerror(errno));
                if (fd >= 0)
                        close(fd);
                return;
        }
        if (st.st_size > (off_t) PF_MAX_FILE_SIZE) {
                pf_error(&c->diags, file_loc(c, path), "the file is larger than %u MiB; podform refuses to read it",
                         PF_MAX_FILE_SIZE >> 20);
                close(fd);
                return;
        }
        size_t cap = (size_t) st.st_size + 1, len = 0;
        char *text = pf_arena_alloc(&c->arena, cap);
        for (;;) {
                ssize_t r = read(fd, text + len, cap - 1 - len);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0) {
                        pf_error(&c->diags, file_loc(c, path), "cannot read the file: %s", strerror(errno));
                        close(fd);
                        return;
                }
                if (r == 0)
                        break;
                len += (size_t) r;
                if (len == cap - 1)
                        break;  /* the file grew while we read it: what we have is what we load */
        }
        close(fd);
        pf_source *src = pf_arena_alloc(&c->arena, sizeof(*src));
        src->path = pf_arena_strdup(&c->arena, path);
        src->text = text;
        src->len = len;
        load_source(c, src);
}

typedef struct path_list { char **v; size_t n, cap; } path_list;

static bool yaml_name(const char *name) {
        size_t n = strlen(name);
        return (n > 5 && strcmp(name + n - 5, ".yaml") == 0) || (n > 4 && strcmp(name + n - 4, ".yml") == 0);
}

enum { MAX_DIR_DEPTH = 32 };

static void collect(pf_config *c, const char *dir, path_list *out, int depth) {
        if (depth > MAX_DIR_DEPTH) {
                pf_error(&c->diags, file_loc(c, dir), "directories are nested deeper than %d levels (a symlink loop?)",
                         MAX_DIR_DEPTH);
                return;
        }
        DIR *d = opendir(dir);
        if (!d) {
                pf_error(&c->diags, file_loc(c, dir), "cannot read the directory: %s", strerror(errno));
                return;
        }
        struct dirent *e;
        while ((e = readdir(d))) {
                if (e->d_name[0] == '.')
                        continue;       /* also skips .git and editors' swap files */
                char *path;
                if (asprintf(&path, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", e->d_name) < 0)
                        pf_oom();
                struct stat st;
                if (stat(path, &st) < 0) {
                        free(path);     /* a dangling symlink is not configuration */
                        continue;
                }
                if (S_ISDIR(st.st_mode)) {
                        collect(c, path, out, depth + 1);
                        free(path);
                } else if (S_ISREG(st.st_mode) && yaml_name(e->d_name)) {
                        if (out->n == out->cap) {
                                out->cap = out->cap ? 2 * out->cap : 64;
                                out->v = pf_xreallocarray(out->v, out->cap, sizeof(*out->v));
                        }
                        out->v[out->n++] = path;
                } else {
                        free(path);
                }
        }
        closedir(d);
}

static int path_cmp(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

void pf_config_load_path(pf_config *c, const char *path) {
        struct stat st;
        if (stat(path, &st) < 0) {
                pf_error(&c->diags, file_loc(c, path), "cannot read the configuration: %s", strerror(errno));
                return;
        }
        if (!S_ISDIR(st.st_mode)) {
                load_file(c, path);
                return;
        }
        path_list files = { 0 };
        collect(c, path, &files, 0);
        /* Byte order of the whole path: the same on every machine, whatever the locale. */
        qsort(files.v, files.n, sizeof(*files.v), path_cmp);
        for (size_t i = 0; i < files.n; i++) {
                load_file(c, files.v[i]);
                free(files.v[i]);
        }
        free(files.v);
}
