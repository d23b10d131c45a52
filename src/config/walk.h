/* walk.h: what the configuration reader's files share (internal to src/config/).
 *
 * Each mapping of the format is a table of {key, parser, offset of the value, offset of its
 * pf_loc}; parse.c holds the value parsers and the walker, kinds.c and kinds_vm.c one table per
 * mapping and each kind's defaults, load.c the documents and files. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/load.h"
#include "config/yaml.h"
#include "model/names.h"

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

typedef struct kind_info {
        const table *spec;
        size_t size;
        size_t list_offset;             /* of the PF_LIST in pf_model */
        bool link;                      /* its name is a kernel interface name */
        void (*init)(void *resource, pf_arena *arena);    /* the defaults */
} kind_info;

static inline pf_loc loc_of(const walk *w, const pf_node *n) {
        return (pf_loc) { w->src, n->line, n->col };
}

static inline pf_diags *D(walk *w) { return &w->cfg->diags; }

static inline void *at(void *base, size_t off) { return (char *) base + off; }

static inline void set_loc(walk *w, const pf_node *n, void *base, const field *f) {
        if (f->loc_offset != NOLOC)
                *(pf_loc *) at(base, f->loc_offset) = loc_of(w, n);
}

/* ---- parse.c: the walker and its helpers ---- */

/* pf_cfg_type_name: how a message names what a node is: "a mapping", "empty". */
const char *pf_cfg_type_name(const pf_node *n);
/* pf_cfg_has_key: whether mapping n has the key (false for anything but a mapping). */
bool pf_cfg_has_key(const pf_node *n, const char *key);
/* pf_cfg_visit: counts a node against the document's budget; false (reported once) past it. */
bool pf_cfg_visit(walk *w);
/* pf_cfg_scalar: the text of a scalar node, or NULL after an error that says what was expected. */
const char *pf_cfg_scalar(walk *w, const pf_node *n, const field *f, const char *expected);
/* pf_cfg_value_error: reports that value n of field f `why`s; returns false. */
bool pf_cfg_value_error(walk *w, const pf_node *n, const field *f, const char *why);
/* pf_cfg_enum_value: the value of s in e, or false after an error with a suggestion. */
bool pf_cfg_enum_value(walk *w, const pf_node *n, const pf_enum *e, const char *s, int *ret);
/* pf_cfg_walk_table: mapping n into base through t, reporting every problem; `what` names n in
 * messages, `here` is where n's own problems are reported. Returns false after any error. */
bool pf_cfg_walk_table(walk *w, const pf_node *n, void *base, const table *t, const char *what, pf_loc here);

/* The parsers of the tables: each stores the value of n at base + f->offset. */
parse_fn p_string, p_name, p_ifname, p_host_or_ip, p_abspath, p_api_version, p_bool, p_uint,
        p_double, p_enum, p_mac, p_pci, p_ip, p_host_cidr, p_ip_range, p_net_cidr, p_quantity,
        p_map, p_seq, p_choice, p_labels;

/* ---- kinds.c, kinds_vm.c: the tables ---- */

extern const table pf_cfg_meta_table, pf_cfg_vm_table;
/* pf_cfg_kinds: each kind's spec table, size, list in pf_model and defaults. */
extern const kind_info pf_cfg_kinds[_PF_KIND_MAX];
void pf_cfg_vm_init(void *resource, pf_arena *arena);

#define FLD(T, k, fn, m, a)  { k, fn, offsetof(T, m), offsetof(T, m##_loc), a, false, false }
#define REQ(T, k, fn, m, a)  { k, fn, offsetof(T, m), offsetof(T, m##_loc), a, true, false }
/* A nested mapping whose fields live in the same struct (overcommit.cpu -> overcommit_cpu). */
#define SUB(T, k, tbl, m_loc) { k, p_map, 0, m_loc, &tbl, false, false }
#define TABLE(ident, label, T, self, fin, ...)                                           \
        static const field ident##_fields[] = { __VA_ARGS__ };                           \
        static const table ident = { label, ident##_fields,                              \
                                     sizeof(ident##_fields) / sizeof(field), self, fin }
#define SEQ(ident, T, fn, a, eloc) static const seq ident = { sizeof(T), fn, a, eloc }
