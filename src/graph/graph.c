/* graph.c: the topology graph (graph.h): adds, the merge of the plan's two sides, the DOT
 * attributes of each role and state, and podform's own DOT writer. */
#include "config.h"
#include "graph/graph.h"

#include <string.h>

#include "util/xalloc.h"

void pf_graph_init(pf_graph *g) { memset(g, 0, sizeof(*g)); }

void pf_graph_free(pf_graph *g) {
        free(g->nodes);
        free(g->edges);
        pf_arena_free(&g->arena);
        memset(g, 0, sizeof(*g));
}

void pf_graph_begin(pf_graph *g, unsigned sides, pf_graph_state state, const char *mark) {
        g->sides = sides;
        g->state = state;
        g->mark = mark;
}

static pf_graph_node *push_node(pf_graph *g, pf_graph_role role, const char *id, const char *label) {
        if (g->n_nodes == g->cap_nodes) {
                g->cap_nodes = g->cap_nodes ? 2 * g->cap_nodes : 32;
                g->nodes = pf_xreallocarray(g->nodes, g->cap_nodes, sizeof(*g->nodes));
        }
        pf_graph_node *n = &g->nodes[g->n_nodes];
        *n = (pf_graph_node) {
                .id = pf_arena_strdup(&g->arena, id), .label = pf_arena_strdup(&g->arena, label),
                .role = role, .sides = g->sides, .seq = g->n_nodes,
        };
        g->n_nodes++;
        return n;
}

void pf_graph_node_add(pf_graph *g, pf_graph_role role, const char *id, const char *label) {
        pf_graph_node *n = push_node(g, role, id, label);
        n->owned = true;
        n->state = g->state;
        n->mark = g->mark ? pf_arena_strdup(&g->arena, g->mark) : NULL;
}

void pf_graph_part_add(pf_graph *g, pf_graph_role role, const char *id, const char *label) {
        pf_graph_node *n = push_node(g, role, id, label);
        n->owned = n->part = true;
}

void pf_graph_ref_add(pf_graph *g, pf_graph_role role, const char *id, const char *label) {
        push_node(g, role, id, label)->sides = PF_GSIDE_BOTH;
}

void pf_graph_edge_add(pf_graph *g, const char *from, const char *to, const char *label, const char *tooltip) {
        if (g->n_edges == g->cap_edges) {
                g->cap_edges = g->cap_edges ? 2 * g->cap_edges : 32;
                g->edges = pf_xreallocarray(g->edges, g->cap_edges, sizeof(*g->edges));
        }
        g->edges[g->n_edges] = (pf_graph_edge) {
                .from = pf_arena_strdup(&g->arena, from), .to = pf_arena_strdup(&g->arena, to),
                .label = label ? pf_arena_strdup(&g->arena, label) : NULL,
                .tooltip = tooltip ? pf_arena_strdup(&g->arena, tooltip) : NULL,
                .sides = g->sides, .seq = g->n_edges,
        };
        g->n_edges++;
}

static bool needs_percent(unsigned char c) { return c < 0x20 || c == 0x7f || c == '\\' || c == '"' || c == '%'; }

const char *pf_graph_id(pf_graph *g, const char *kind, const char *name) {
        size_t len = strlen(kind) + 1 + 3 * strlen(name) + 1;
        char *id = pf_arena_alloc(&g->arena, len), *p = id + strlen(kind) + 1;
        memcpy(id, kind, strlen(kind));
        id[strlen(kind)] = ':';
        for (const unsigned char *s = (const unsigned char *) name; *s; s++)
                p += needs_percent(*s) ? sprintf(p, "%%%02X", *s) : sprintf(p, "%c", *s);
        return id;
}

/* ---- sort and merge ---- */

static int cmp_node(const void *a, const void *b) {
        const pf_graph_node *x = a, *y = b;
        int c = strcmp(x->id, y->id);
        return c ? c : (x->seq > y->seq) - (x->seq < y->seq);
}

static int cmp_edge(const void *a, const void *b) {
        const pf_graph_edge *x = a, *y = b;
        int c = strcmp(x->from, y->from);
        if (!c)
                c = strcmp(x->to, y->to);
        return c ? c : (x->seq > y->seq) - (x->seq < y->seq);
}

/* What a side or both make of a part or an edge. */
static pf_graph_state state_of_sides(unsigned sides) {
        return sides == PF_GSIDE_WANT ? PF_GS_CREATE : sides == PF_GSIDE_HAVE ? PF_GS_DELETE : PF_GS_SAME;
}

/* A later add of the same node: an object's drawing beats a mere name, a later label an earlier. */
static void merge_node(pf_graph_node *into, const pf_graph_node *n) {
        if (n->owned && !into->owned) {
                *into = *n;
                return;
        }
        /* of two mere names, the one that says more than "a NIC" */
        if (!n->owned && (into->owned || (n->role == PF_GR_NIC && into->role != PF_GR_NIC)))
                return;
        into->role = n->role;
        into->label = n->label;
        into->sides |= n->sides;
        if (!n->part && n->state != PF_GS_SAME)
                into->state = n->state;
        if (n->mark)
                into->mark = n->mark;
}

static void merge_nodes(pf_graph *g) {
        qsort(g->nodes, g->n_nodes, sizeof(*g->nodes), cmp_node);
        size_t out = 0;
        for (size_t i = 0; i < g->n_nodes; i++) {
                if (out && !strcmp(g->nodes[out - 1].id, g->nodes[i].id))
                        merge_node(&g->nodes[out - 1], &g->nodes[i]);
                else
                        g->nodes[out++] = g->nodes[i];
        }
        g->n_nodes = out;
        for (size_t i = 0; i < g->n_nodes; i++)
                if (g->nodes[i].part)
                        g->nodes[i].state = state_of_sides(g->nodes[i].sides);
}

static void merge_edges(pf_graph *g) {
        qsort(g->edges, g->n_edges, sizeof(*g->edges), cmp_edge);
        size_t out = 0;
        for (size_t i = 0; i < g->n_edges; i++) {
                pf_graph_edge *prev = out ? &g->edges[out - 1] : NULL, *e = &g->edges[i];
                if (!prev || strcmp(prev->from, e->from) || strcmp(prev->to, e->to)) {
                        g->edges[out++] = *e;
                        continue;
                }
                prev->sides |= e->sides;
                if (e->label)
                        prev->label = e->label;
                if (e->tooltip)
                        prev->tooltip = e->tooltip;
        }
        g->n_edges = out;
}

void pf_graph_sort(pf_graph *g) {
        merge_nodes(g);
        merge_edges(g);
}

pf_graph_state pf_graph_edge_state(const pf_graph_edge *e) { return state_of_sides(e->sides); }

/* ---- attributes ---- */

static const struct { const char *shape, *style; } role_look[_PF_GR_MAX] = {
        [PF_GR_VM] = { "box3d", NULL },
        [PF_GR_IFACE] = { "ellipse", NULL },
        [PF_GR_NETWORK] = { "hexagon", NULL },
        [PF_GR_LINK] = { "box", "rounded" },
        [PF_GR_NIC] = { "box", "filled" },
        [PF_GR_SUBNET] = { "note", NULL },
        [PF_GR_POOL] = { "cylinder", NULL },
        [PF_GR_VOLUME] = { "folder", NULL },
};

/* Colours: created green, changed amber, deleted red and dashed. */
static const struct { const char *color, *style, *word; } state_look[_PF_GS_MAX] = {
        [PF_GS_SAME] = { NULL, NULL, NULL },
        [PF_GS_CREATE] = { "green4", NULL, "create" },
        [PF_GS_CHANGE] = { "#ffbf00", NULL, "change" },
        [PF_GS_DELETE] = { "red", "dashed", "delete" },
};

static const char *join_style(pf_arena *a, const char *x, const char *y) {
        if (!x || !y)
                return x ? x : y;
        return pf_arena_printf(a, "%s,%s", x, y);
}

size_t pf_graph_node_attrs(pf_graph *g, const pf_graph_node *n, pf_dot_attr out[PF_GRAPH_MAX_ATTRS]) {
        size_t k = 0;
        const char *label = n->mark ? pf_arena_printf(&g->arena, "%s\n(%s)", n->label, n->mark) : n->label;
        out[k++] = (pf_dot_attr) { "label", pf_dot_label(&g->arena, label) };
        out[k++] = (pf_dot_attr) { "shape", role_look[n->role].shape };
        const char *style = join_style(&g->arena, role_look[n->role].style, state_look[n->state].style);
        if (n->mark)
                style = join_style(&g->arena, style, "bold");
        if (style)
                out[k++] = (pf_dot_attr) { "style", style };
        if (n->role == PF_GR_NIC)
                out[k++] = (pf_dot_attr) { "fillcolor", "gray92" };
        if (state_look[n->state].color) {
                out[k++] = (pf_dot_attr) { "color", state_look[n->state].color };
                out[k++] = (pf_dot_attr) { "class", state_look[n->state].word };
        }
        if (n->mark)
                out[k++] = (pf_dot_attr) { "peripheries", "2" };
        return k;
}

size_t pf_graph_edge_attrs(pf_graph *g, const pf_graph_edge *e, pf_dot_attr out[PF_GRAPH_MAX_ATTRS]) {
        size_t k = 0;
        pf_graph_state s = pf_graph_edge_state(e);
        if (e->label)
                out[k++] = (pf_dot_attr) { "label", pf_dot_label(&g->arena, e->label) };
        if (e->tooltip)
                out[k++] = (pf_dot_attr) { "tooltip", pf_dot_label(&g->arena, e->tooltip) };
        if (state_look[s].color) {
                out[k++] = (pf_dot_attr) { "color", state_look[s].color };
                out[k++] = (pf_dot_attr) { "class", state_look[s].word };
        }
        if (state_look[s].style)
                out[k++] = (pf_dot_attr) { "style", state_look[s].style };
        return k;
}

size_t pf_graph_attrs(pf_graph *g, pf_dot_attr out[PF_GRAPH_MAX_ATTRS]) {
        size_t k = 0;
        out[k++] = (pf_dot_attr) { "rankdir", "LR" };
        out[k++] = (pf_dot_attr) { "fontname", "Helvetica" };
        if (g->title) {
                out[k++] = (pf_dot_attr) { "label", pf_dot_label(&g->arena, g->title) };
                out[k++] = (pf_dot_attr) { "labelloc", "t" };
        }
        return k;
}

/* ---- DOT text ---- */

const char *pf_dot_label(pf_arena *a, const char *s) {
        char *out = pf_arena_alloc(a, 2 * strlen(s) + 1), *p = out;
        for (; *s; s++) {
                if (*s == '\\' || *s == '\n')
                        *p++ = '\\';
                *p++ = *s == '\n' ? 'n' : *s;
        }
        *p = '\0';
        return out;
}

const char *pf_dot_quote(pf_arena *a, const char *v) {
        char *out = pf_arena_alloc(a, 2 * strlen(v) + 3), *p = out;
        *p++ = '"';
        for (const char *s = v; *s; s++) {
                if (*s == '"')
                        *p++ = '\\';
                *p++ = *s;
        }
        *p++ = '"';
        *p = '\0';
        return out;
}

static int cmp_attr(const void *a, const void *b) {
        return strcmp(((const pf_dot_attr *) a)->name, ((const pf_dot_attr *) b)->name);
}

/* By name, as libcgraph's agwrite orders them: the two writers differ only in spacing and quotes. */
static void write_attrs(pf_graph *g, FILE *f, pf_dot_attr *v, size_t n, const char *open, const char *close) {
        qsort(v, n, sizeof(*v), cmp_attr);
        for (size_t i = 0; i < n; i++)
                fprintf(f, "%s%s=%s", i ? ", " : open, v[i].name, pf_dot_quote(&g->arena, v[i].value));
        if (n)
                fputs(close, f);
}

void pf_graph_write_dot(pf_graph *g, FILE *f) {
        pf_dot_attr v[PF_GRAPH_MAX_ATTRS];
        fputs("digraph podform {\n", f);
        size_t n = pf_graph_attrs(g, v);
        for (size_t i = 0; i < n; i++)
                fprintf(f, "\t%s=%s;\n", v[i].name, pf_dot_quote(&g->arena, v[i].value));
        for (size_t i = 0; i < g->n_nodes; i++) {
                fprintf(f, "\t%s", pf_dot_quote(&g->arena, g->nodes[i].id));
                write_attrs(g, f, v, pf_graph_node_attrs(g, &g->nodes[i], v), " [", "]");
                fputs(";\n", f);
        }
        for (size_t i = 0; i < g->n_edges; i++) {
                const pf_graph_edge *e = &g->edges[i];
                fprintf(f, "\t%s -> %s", pf_dot_quote(&g->arena, e->from), pf_dot_quote(&g->arena, e->to));
                write_attrs(g, f, v, pf_graph_edge_attrs(g, e, v), " [", "]");
                fputs(";\n", f);
        }
        fputs("}\n", f);
}

const char *pf_graph_next_item(pf_graph *g, const char **list) {
        const char *s = *list;
        while (s && (*s == ' ' || *s == ','))
                s++;
        if (!s || !*s)
                return NULL;
        size_t n = strcspn(s, ",");
        *list = s + n;
        while (n && s[n - 1] == ' ')
                n--;
        return pf_arena_strndup(&g->arena, s, n);
}
