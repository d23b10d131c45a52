/* graph.h: the host's topology as nodes and edges (podform graph), built kind by kind and
 * written as Graphviz DOT or SVG.
 *
 * Each kind draws an object through its `graph` entry (kinds/kind.h) with the calls below; the
 * stage (run/stages.c) says, before each call, which side of the plan the object comes from and
 * how the plan treats it. An object drawn from both sides (a change) is merged by node and edge
 * id: an edge only the desired side draws is created, one only the live side draws is deleted.
 * Pure: no I/O but the writers at the end. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "util/arena.h"

/* What a node stands for: its shape (graph.c). Not a kind: a NIC or a Subnet is no kind. */
typedef enum pf_graph_role {
        PF_GR_VM, PF_GR_IFACE, PF_GR_NETWORK, PF_GR_LINK, PF_GR_NIC, PF_GR_SUBNET, PF_GR_POOL,
        PF_GR_VOLUME, _PF_GR_MAX
} pf_graph_role;

/* What the plan does with a node or an edge. */
typedef enum pf_graph_state {
        PF_GS_SAME, PF_GS_CREATE, PF_GS_CHANGE, PF_GS_DELETE, _PF_GS_MAX
} pf_graph_state;

/* Which side of the plan the object being drawn comes from. */
enum { PF_GSIDE_HAVE = 1 << 0, PF_GSIDE_WANT = 1 << 1, PF_GSIDE_BOTH = PF_GSIDE_HAVE | PF_GSIDE_WANT };

typedef struct pf_graph_node {
        const char *id, *label;
        pf_graph_role role;
        pf_graph_state state;
        unsigned sides;
        bool owned;             /* drawn by an object, not only named by one (pf_graph_ref) */
        bool part;              /* a part of its object (an interface): its state comes from its sides */
        const char *mark;       /* the plan's warning ("restart pending"), or NULL */
        size_t seq;             /* order of the add: of two adds of one id, the later wins */
} pf_graph_node;

typedef struct pf_graph_edge {
        const char *from, *to;
        const char *label, *tooltip;    /* NULL: none */
        unsigned sides;
        size_t seq;
} pf_graph_edge;

typedef struct pf_graph {
        pf_arena arena;
        const char *title;              /* the graph's label, or NULL */
        pf_graph_node *nodes;
        size_t n_nodes, cap_nodes;
        pf_graph_edge *edges;
        size_t n_edges, cap_edges;
        /* the object being drawn (pf_graph_begin) */
        unsigned sides;
        pf_graph_state state;
        const char *mark;
} pf_graph;

void pf_graph_init(pf_graph *g);
void pf_graph_free(pf_graph *g);

/* pf_graph_begin: the next calls draw one object, from `sides`, which the plan treats as
 * `state`, with `mark` (NULL: none) on its own node. */
void pf_graph_begin(pf_graph *g, unsigned sides, pf_graph_state state, const char *mark);

/* The object's own node. */
void pf_graph_node_add(pf_graph *g, pf_graph_role role, const char *id, const char *label);
/* A part of the object (a VM's interface): created or deleted with the side that has it. */
void pf_graph_part_add(pf_graph *g, pf_graph_role role, const char *id, const char *label);
/* A node the object only names (a parent NIC, a Subnet): made plain unless an object draws it. */
void pf_graph_ref_add(pf_graph *g, pf_graph_role role, const char *id, const char *label);
/* An edge; one per (from, to): a later label or tooltip replaces an earlier one. */
void pf_graph_edge_add(pf_graph *g, const char *from, const char *to, const char *label, const char *tooltip);

/* A node's id: "KIND:NAME" (arena memory), with '\\', '"', '%' and control characters of NAME
 * as %XX so that an id needs no escape; links of every kind and NICs share "link:". */
const char *pf_graph_id(pf_graph *g, const char *kind, const char *name);

/* pf_graph_sort: nodes by id, edges by (from, to), and the state of every edge and part from its
 * sides: what the writers draw. Call it once, after the last add. */
void pf_graph_sort(pf_graph *g);
pf_graph_state pf_graph_edge_state(const pf_graph_edge *e);

/* A DOT attribute: a value as DOT reads it out of its quotes (labels through pf_dot_label). */
typedef struct pf_dot_attr { const char *name, *value; } pf_dot_attr;
#define PF_GRAPH_MAX_ATTRS 8
/* The attributes both writers give a node and an edge: shape by role, colour and style by
 * state, label. Returns how many were put in out. */
size_t pf_graph_node_attrs(pf_graph *g, const pf_graph_node *n, pf_dot_attr out[PF_GRAPH_MAX_ATTRS]);
size_t pf_graph_edge_attrs(pf_graph *g, const pf_graph_edge *e, pf_dot_attr out[PF_GRAPH_MAX_ATTRS]);
/* The graph's own attributes (layout, title). Returns how many. */
size_t pf_graph_attrs(pf_graph *g, pf_dot_attr out[PF_GRAPH_MAX_ATTRS]);

/* pf_dot_label: s as a DOT label's value: '\' doubled (DOT reads \n, \l, \N in labels) and a
 * newline as the line break \n (arena memory). */
const char *pf_dot_label(pf_arena *a, const char *s);
/* pf_dot_quote: a value as a DOT quoted string: '"' escaped. The value must not end in an odd
 * run of '\' (labels from pf_dot_label and ids from pf_graph_id never do). */
const char *pf_dot_quote(pf_arena *a, const char *v);

/* pf_graph_write_dot: the sorted graph as DOT, written by podform itself (the writer when
 * podform is built without Graphviz, and the reference the tests compare libcgraph's with). */
void pf_graph_write_dot(pf_graph *g, FILE *f);

/* pf_graph_render: the sorted graph to f as "dot" or "svg", through libcgraph and libgvc when
 * podform is built with them, else through pf_graph_write_dot, and "svg" is an error. -1 with
 * *err set on failure. */
int pf_graph_render(pf_graph *g, const char *format, FILE *f, char **err);
/* Whether pf_graph_render can write SVG (podform was built with libgvc). */
bool pf_graph_can_svg(void);

/* pf_graph_next_item: the next item of a comma-separated field value ("eno1, eno2" or
 * "eno1,eno2"), spaces trimmed, in g's arena; *list moves past it. NULL after the last. */
const char *pf_graph_next_item(pf_graph *g, const char **list);
