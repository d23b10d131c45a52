#include "config.h"
#include "config/yaml.h"

#include <stdio.h>
#include <string.h>
#include <yaml.h>

#include "util/xalloc.h"

typedef struct anchor {
        const char *name;
        pf_node *node;
} anchor;

/* Open collections: their node, and where their children start on the shared child stack. */
typedef struct frame {
        pf_node *node;
        size_t first_child;
        const char *anchor;             /* registered when the collection ends (no cycles) */
} frame;

typedef struct builder {
        pf_arena *arena;                /* scalars: the model keeps them */
        pf_arena *nodes;                /* the tree: done with once the documents are loaded */
        const pf_source *src;
        pf_diags *diags;
        frame stack[PF_YAML_MAX_DEPTH + 1];
        size_t depth;
        pf_node **children;
        size_t n_children, cap_children;
        anchor *anchors;                /* open-addressing hash table, per document */
        size_t cap_anchors, n_anchors;
        pf_yaml_doc doc;
        pf_node *root;
} builder;

static pf_loc mark_loc(const builder *b, yaml_mark_t m) {
        return (pf_loc) { b->src, (uint32_t) m.line + 1, (uint32_t) m.column + 1 };
}

static uint64_t hash(const char *s) {
        uint64_t h = 1469598103934665603ULL;
        for (; *s; s++)
                h = (h ^ (unsigned char) *s) * 1099511628211ULL;
        return h;
}

static anchor *anchor_slot(anchor *t, size_t cap, const char *name) {
        for (size_t i = hash(name) & (cap - 1);; i = (i + 1) & (cap - 1))
                if (!t[i].name || strcmp(t[i].name, name) == 0)
                        return &t[i];
}

static void anchor_put(builder *b, const char *name, pf_node *node) {
        if (2 * (b->n_anchors + 1) > b->cap_anchors) {
                size_t cap = b->cap_anchors ? 2 * b->cap_anchors : 16;
                anchor *t = pf_xcalloc(cap, sizeof(*t));
                for (size_t i = 0; i < b->cap_anchors; i++)
                        if (b->anchors[i].name)
                                *anchor_slot(t, cap, b->anchors[i].name) = b->anchors[i];
                free(b->anchors);
                b->anchors = t;
                b->cap_anchors = cap;
        }
        anchor *s = anchor_slot(b->anchors, b->cap_anchors, name);
        if (!s->name)
                b->n_anchors++;
        s->name = name;         /* a redefined anchor takes its new value, as YAML says */
        s->node = node;
}

static pf_node *anchor_get(builder *b, const char *name) {
        if (!b->cap_anchors)
                return NULL;
        return anchor_slot(b->anchors, b->cap_anchors, name)->node;
}

static void push_child(builder *b, pf_node *n) {
        if (b->depth == 0) {
                b->root = n;
                return;
        }
        if (b->n_children == b->cap_children) {
                b->cap_children = b->cap_children ? 2 * b->cap_children : 64;
                b->children = pf_xreallocarray(b->children, b->cap_children, sizeof(*b->children));
        }
        b->children[b->n_children++] = n;
}

static pf_node *new_node(builder *b, pf_node_type type, yaml_mark_t m) {
        pf_node *n = pf_arena_alloc(b->nodes, sizeof(*n));
        n->type = type;
        n->line = (uint32_t) m.line + 1;
        n->col = (uint32_t) m.column + 1;
        b->doc.n_nodes++;
        return n;
}

static const char *dup_anchor(builder *b, const yaml_char_t *a) {
        return a ? pf_arena_strdup(b->nodes, (const char *) a) : NULL;
}

/* Returns false when the document cannot be built any further. */
static bool handle_event(builder *b, yaml_event_t *e, pf_yaml_docs *docs, size_t *cap_docs) {
        switch (e->type) {
        case YAML_DOCUMENT_START_EVENT:
                b->doc = (pf_yaml_doc) { .line = (uint32_t) e->start_mark.line + 1,
                                         .col = (uint32_t) e->start_mark.column + 1 };
                b->root = NULL;
                b->n_anchors = 0;
                if (b->anchors)
                        memset(b->anchors, 0, b->cap_anchors * sizeof(*b->anchors));
                break;
        case YAML_DOCUMENT_END_EVENT:
                if (docs->n == *cap_docs) {
                        *cap_docs = *cap_docs ? 2 * *cap_docs : 8;
                        docs->v = pf_xreallocarray(docs->v, *cap_docs, sizeof(*docs->v));
                }
                b->doc.root = b->root;
                docs->v[docs->n++] = b->doc;
                break;
        case YAML_SCALAR_EVENT: {
                pf_node *n = new_node(b, PF_NODE_SCALAR, e->start_mark);
                n->value = pf_arena_strndup(b->arena, (const char *) e->data.scalar.value, e->data.scalar.length);
                n->len = e->data.scalar.length;
                n->plain = e->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
                n->quoted = e->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
                            e->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE;
                n->single_line = e->start_mark.line == e->end_mark.line &&
                                 (n->plain || n->quoted);
                if (e->data.scalar.anchor)
                        anchor_put(b, dup_anchor(b, e->data.scalar.anchor), n);
                push_child(b, n);
                break;
        }
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT: {
                if (b->depth == PF_YAML_MAX_DEPTH) {
                        pf_error(b->diags, mark_loc(b, e->start_mark),
                                 "YAML nesting is deeper than %d levels; podform configurations are never this deep",
                                 PF_YAML_MAX_DEPTH);
                        return false;
                }
                bool seq = e->type == YAML_SEQUENCE_START_EVENT;
                pf_node *n = new_node(b, seq ? PF_NODE_SEQUENCE : PF_NODE_MAPPING, e->start_mark);
                const yaml_char_t *a = seq ? e->data.sequence_start.anchor : e->data.mapping_start.anchor;
                b->stack[b->depth++] = (frame) { n, b->n_children, dup_anchor(b, a) };
                break;
        }
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT: {
                frame f = b->stack[--b->depth];
                size_t k = b->n_children - f.first_child;
                f.node->items = pf_arena_array(b->nodes, k, sizeof(pf_node *));
                if (k)  /* children is NULL until the first child */
                        memcpy(f.node->items, b->children + f.first_child, k * sizeof(pf_node *));
                f.node->n = f.node->type == PF_NODE_MAPPING ? k / 2 : k;
                b->n_children = f.first_child;
                if (f.anchor)
                        anchor_put(b, f.anchor, f.node);
                push_child(b, f.node);
                break;
        }
        case YAML_ALIAS_EVENT: {
                pf_node *target = anchor_get(b, (const char *) e->data.alias.anchor);
                if (!target) {
                        char q[PF_QUOTE_MAX], star[PF_QUOTE_MAX];
                        snprintf(star, sizeof(star), "*%s", (const char *) e->data.alias.anchor);
                        pf_error(b->diags, mark_loc(b, e->start_mark),
                                 "alias %s refers to no earlier anchor (an anchor must be complete before it is used)",
                                 pf_quote(q, sizeof(q), star, strlen(star)));
                        return false;
                }
                push_child(b, target);
                break;
        }
        default:
                break;
        }
        return true;
}

static const char *syntax_hint(const yaml_parser_t *p, const pf_source *src) {
        const char *problem = p->problem ? p->problem : "";
        size_t at = p->problem_mark.index;
        if (at < src->len && src->text[at] == '\t')
                return "; indent with spaces: YAML does not allow tabs here";
        if (strstr(problem, "control characters"))
                return "; the file looks binary or contains a NUL byte";
        if (strstr(problem, "mapping values are not allowed"))
                return "; quote values that contain ': ', or check the indentation of this line";
        if (strstr(problem, "did not find expected key"))
                return "; check the indentation of this line";
        return "";
}

static pf_loc offset_loc(const pf_source *src, size_t off) {
        uint32_t line = 1, col = 1;
        for (size_t i = 0; i < off && i < src->len; i++) {
                if (src->text[i] == '\n') {
                        line++;
                        col = 1;
                } else if (((unsigned char) src->text[i] & 0xC0) != 0x80) {
                        col++;
                }
        }
        return (pf_loc) { src, line, col };
}

static void report_syntax_error(const yaml_parser_t *p, const pf_source *src, pf_diags *d) {
        if (p->error == YAML_MEMORY_ERROR)
                pf_oom();
        if (p->error == YAML_READER_ERROR) {
                /* The reader reports a byte offset. Point at the first byte of the broken
                 * character, not at the continuation byte where libyaml noticed. */
                size_t off = p->problem_offset;
                if (src->len >= 2 && ((unsigned char) src->text[0] == 0xff || (unsigned char) src->text[0] == 0xfe) &&
                    ((unsigned char) src->text[1] ^ (unsigned char) src->text[0]) == 0x01) {
                        pf_error(d, offset_loc(src, 0), "the file is UTF-16; podform reads UTF-8: convert it with iconv -f UTF-16 -t UTF-8");
                        return;
                }
                if (strstr(p->problem, "control characters")) {
                        pf_error(d, offset_loc(src, off), "control character 0x%02x is not allowed in YAML; the file looks binary",
                                 (unsigned) p->problem_value & 0xff);
                        return;
                }
                for (size_t back = 0; back < 3 && off > 0 && ((unsigned char) src->text[off] & 0xC0) == 0x80 &&
                                      ((unsigned char) src->text[off - 1] & 0x80); back++)
                        off--;
                if (off < src->len && ((unsigned char) src->text[off] & 0xC0) != 0xC0 && off > 0 &&
                    ((unsigned char) src->text[off - 1] & 0xC0) == 0xC0)
                        off--;  /* a lead byte followed by something that does not continue it */
                pf_error(d, offset_loc(src, off), "the file is not valid UTF-8 here (byte 0x%02x); podform reads UTF-8 text",
                         off < src->len ? (unsigned char) src->text[off] : 0);
                return;
        }
        pf_loc problem = { src, (uint32_t) p->problem_mark.line + 1, (uint32_t) p->problem_mark.column + 1 };
        /* Unclosed quotes and brackets: the opener is what to fix, the problem is found far away. */
        bool opener = p->context && (strstr(p->context, "quoted scalar") || strstr(p->context, "flow"));
        if (opener) {
                pf_loc start = { src, (uint32_t) p->context_mark.line + 1, (uint32_t) p->context_mark.column + 1 };
                const char *what = strstr(p->context, " a ");   /* "while parsing a flow sequence" */
                pf_error(d, start, "YAML syntax: the %s that starts here is not closed: %s at line %u, column %u",
                         what ? what + 3 : p->context, p->problem, problem.line, problem.col);
                return;
        }
        pf_error(d, problem, "YAML syntax: %s%s%s%s", p->problem ? p->problem : "invalid YAML",
                 p->context ? " " : "", p->context ? p->context : "", syntax_hint(p, src));
}

bool pf_yaml_parse(pf_arena *a, pf_arena *nodes, const pf_source *src, pf_diags *d, pf_yaml_docs *ret) {
        yaml_parser_t parser;
        if (!yaml_parser_initialize(&parser))
                pf_oom();
        yaml_parser_set_input_string(&parser, (const unsigned char *) src->text, src->len);
        yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING);
        builder b = { .arena = a, .nodes = nodes, .src = src, .diags = d };
        pf_yaml_docs docs = { 0 };
        size_t cap_docs = 0;
        bool ok = true;
        for (;;) {
                yaml_event_t e;
                if (!yaml_parser_parse(&parser, &e)) {
                        report_syntax_error(&parser, src, d);
                        ok = false;
                        break;
                }
                bool more = handle_event(&b, &e, &docs, &cap_docs);
                bool end = e.type == YAML_STREAM_END_EVENT;
                yaml_event_delete(&e);
                if (!more) {
                        ok = false;
                        break;
                }
                if (end)
                        break;
        }
        yaml_parser_delete(&parser);
        free(b.children);
        free(b.anchors);
        *ret = docs;
        return ok;
}

bool pf_node_is_null(const pf_node *n) {
        if (n->type != PF_NODE_SCALAR || !n->plain)
                return false;
        return n->len == 0 || strcmp(n->value, "~") == 0 || strcmp(n->value, "null") == 0 ||
               strcmp(n->value, "Null") == 0 || strcmp(n->value, "NULL") == 0;
}
