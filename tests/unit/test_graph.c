/* test_graph: the topology graph (graph/graph.c): DOT quoting, ids, the merge of the plan's two
 * sides, podform's own DOT writer, and, when built with libcgraph, that libcgraph reads what
 * that writer writes back to the same nodes, labels and edges. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "graph/graph.h"

#ifdef HAVE_LIBCGRAPH
#include <graphviz/cgraph.h>
#endif

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void test_quote(void **state) {
        (void) state;
        /* in: the text; out: the quoted DOT label that Graphviz shows as that text */
        static const struct { const char *in, *out; } cases[] = {
                { "br0", "\"br0\"" },
                { "", "\"\"" },
                { "say \"hi\"", "\"say \\\"hi\\\"\"" },
                { "a\\b", "\"a\\\\b\"" },
                { "ends\\", "\"ends\\\\\"" },
                { "\\\"", "\"\\\\\\\"\"" },
                { "two\nlines", "\"two\\nlines\"" },
                { "\\n is no newline", "\"\\\\n is no newline\"" },
                { "{x} -> [y]; <z>", "\"{x} -> [y]; <z>\"" },
        };
        pf_arena a = { 0 };
        for (size_t i = 0; i < N(cases); i++)
                assert_string_equal(pf_dot_quote(&a, pf_dot_label(&a, cases[i].in)), cases[i].out);
        pf_arena_free(&a);
}

static void test_id(void **state) {
        (void) state;
        pf_graph g;
        pf_graph_init(&g);
        assert_string_equal(pf_graph_id(&g, "link", "eno1"), "link:eno1");
        assert_string_equal(pf_graph_id(&g, "vm", "a\"b\\c%d\ne"), "vm:a%22b%5Cc%25d%0Ae");
        assert_string_equal(pf_graph_id(&g, "iface", "mac 52:54:00:00:00:01"), "iface:mac 52:54:00:00:00:01");
        const char *list = "eno1, eno2,eno3 ,", *item;
        const char *want[] = { "eno1", "eno2", "eno3" };
        size_t n = 0;
        while ((item = pf_graph_next_item(&g, &list)))
                assert_string_equal(item, want[n++]);
        assert_int_equal(n, 3);
        pf_graph_free(&g);
}

static const pf_graph_node *node(const pf_graph *g, const char *id) {
        for (size_t i = 0; i < g->n_nodes; i++)
                if (!strcmp(g->nodes[i].id, id))
                        return &g->nodes[i];
        fail_msg("no node %s", id);
        return NULL;
}

static const pf_graph_edge *edge(const pf_graph *g, const char *from, const char *to) {
        for (size_t i = 0; i < g->n_edges; i++)
                if (!strcmp(g->edges[i].from, from) && !strcmp(g->edges[i].to, to))
                        return &g->edges[i];
        fail_msg("no edge %s -> %s", from, to);
        return NULL;
}

/* A VM changed (its interface moves from network old to network new, a second interface is
 * added), drawn live side first, as the stage draws it; a network only named; a NIC named,
 * then drawn by its own object. */
static void draw_change(pf_graph *g) {
        pf_graph_begin(g, PF_GSIDE_HAVE, PF_GS_CHANGE, "restart pending");
        pf_graph_node_add(g, PF_GR_VM, "vm:web", "vm web\nold");
        pf_graph_part_add(g, PF_GR_IFACE, "iface:web/a", "a");
        pf_graph_edge_add(g, "vm:web", "iface:web/a", NULL, NULL);
        pf_graph_ref_add(g, PF_GR_NETWORK, "network:old", "network old");
        pf_graph_edge_add(g, "iface:web/a", "network:old", NULL, NULL);
        pf_graph_begin(g, PF_GSIDE_WANT, PF_GS_CHANGE, "restart pending");
        pf_graph_node_add(g, PF_GR_VM, "vm:web", "vm web\nnew");
        pf_graph_part_add(g, PF_GR_IFACE, "iface:web/a", "a");
        pf_graph_part_add(g, PF_GR_IFACE, "iface:web/b", "b");
        pf_graph_edge_add(g, "vm:web", "iface:web/a", NULL, NULL);
        pf_graph_edge_add(g, "vm:web", "iface:web/b", NULL, NULL);
        pf_graph_ref_add(g, PF_GR_NETWORK, "network:new", "network new");
        pf_graph_edge_add(g, "iface:web/a", "network:new", "pod: rule a", "why");
        pf_graph_ref_add(g, PF_GR_NIC, "link:eno1", "eno1");
        pf_graph_edge_add(g, "iface:web/b", "link:eno1", "macvtap", NULL);
        pf_graph_begin(g, PF_GSIDE_BOTH, PF_GS_SAME, NULL);
        pf_graph_node_add(g, PF_GR_LINK, "link:eno1", "bridge eno1");
}

static void test_merge(void **state) {
        (void) state;
        pf_graph g;
        pf_graph_init(&g);
        draw_change(&g);
        pf_graph_sort(&g);
        assert_int_equal(g.n_nodes, 6);
        for (size_t i = 1; i < g.n_nodes; i++)
                assert_true(strcmp(g.nodes[i - 1].id, g.nodes[i].id) < 0);
        const pf_graph_node *vm = node(&g, "vm:web");
        assert_int_equal(vm->state, PF_GS_CHANGE);
        assert_string_equal(vm->label, "vm web\nnew");
        assert_string_equal(vm->mark, "restart pending");
        assert_int_equal(node(&g, "iface:web/a")->state, PF_GS_SAME);
        assert_int_equal(node(&g, "iface:web/b")->state, PF_GS_CREATE);
        assert_int_equal(node(&g, "network:old")->state, PF_GS_SAME);
        const pf_graph_node *eno1 = node(&g, "link:eno1");
        assert_int_equal(eno1->role, PF_GR_LINK);
        assert_string_equal(eno1->label, "bridge eno1");
        assert_int_equal(g.n_edges, 5);
        assert_int_equal(pf_graph_edge_state(edge(&g, "vm:web", "iface:web/a")), PF_GS_SAME);
        assert_int_equal(pf_graph_edge_state(edge(&g, "vm:web", "iface:web/b")), PF_GS_CREATE);
        assert_int_equal(pf_graph_edge_state(edge(&g, "iface:web/a", "network:old")), PF_GS_DELETE);
        const pf_graph_edge *moved = edge(&g, "iface:web/a", "network:new");
        assert_int_equal(pf_graph_edge_state(moved), PF_GS_CREATE);
        assert_string_equal(moved->label, "pod: rule a");
        assert_string_equal(moved->tooltip, "why");
        pf_graph_free(&g);
}

static char *written_dot(pf_graph *g) {
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        pf_graph_write_dot(g, f);
        fclose(f);
        return text;
}

/* podform's own writer: every node, then every edge, sorted; colour and style by state. */
static void test_write_dot(void **state) {
        (void) state;
        pf_graph g;
        pf_graph_init(&g);
        g.title = "host \"kvm\"";
        draw_change(&g);
        pf_graph_begin(&g, PF_GSIDE_HAVE, PF_GS_DELETE, NULL);
        pf_graph_node_add(&g, PF_GR_POOL, "pool:old", "pool old\\dir");
        pf_graph_sort(&g);
        char *text = written_dot(&g);
        assert_string_equal(text,
                "digraph podform {\n"
                "\trankdir=\"LR\";\n"
                "\tfontname=\"Helvetica\";\n"
                "\tlabel=\"host \\\"kvm\\\"\";\n"
                "\tlabelloc=\"t\";\n"
                "\t\"iface:web/a\" [label=\"a\", shape=\"ellipse\"];\n"
                "\t\"iface:web/b\" [class=\"create\", color=\"green4\", label=\"b\", shape=\"ellipse\"];\n"
                "\t\"link:eno1\" [label=\"bridge eno1\", shape=\"box\", style=\"rounded\"];\n"
                "\t\"network:new\" [label=\"network new\", shape=\"hexagon\"];\n"
                "\t\"network:old\" [label=\"network old\", shape=\"hexagon\"];\n"
                "\t\"pool:old\" [class=\"delete\", color=\"red\", label=\"pool old\\\\dir\", shape=\"cylinder\", "
                "style=\"dashed\"];\n"
                "\t\"vm:web\" [class=\"change\", color=\"#ffbf00\", label=\"vm web\\nnew\\n(restart pending)\", "
                "peripheries=\"2\", shape=\"box3d\", style=\"bold\"];\n"
                "\t\"iface:web/a\" -> \"network:new\" [class=\"create\", color=\"green4\", label=\"pod: rule a\", "
                "tooltip=\"why\"];\n"
                "\t\"iface:web/a\" -> \"network:old\" [class=\"delete\", color=\"red\", style=\"dashed\"];\n"
                "\t\"iface:web/b\" -> \"link:eno1\" [class=\"create\", color=\"green4\", label=\"macvtap\"];\n"
                "\t\"vm:web\" -> \"iface:web/a\";\n"
                "\t\"vm:web\" -> \"iface:web/b\" [class=\"create\", color=\"green4\"];\n"
                "}\n");
        free(text);
        pf_graph_free(&g);
}

#ifdef HAVE_LIBCGRAPH
/* libcgraph reads podform's DOT to what podform meant: ids, labels with quotes, backslashes and
 * line breaks, edges. */
static void test_cgraph_reads_it(void **state) {
        (void) state;
        pf_graph g;
        pf_graph_init(&g);
        pf_graph_begin(&g, PF_GSIDE_BOTH, PF_GS_SAME, NULL);
        const char *id = pf_graph_id(&g, "vm", "odd \"name\\");
        pf_graph_node_add(&g, PF_GR_VM, id, "say \"hi\"\\\nthere");
        pf_graph_ref_add(&g, PF_GR_NIC, "link:eno1", "eno1");
        pf_graph_edge_add(&g, id, "link:eno1", "a \"label\"", NULL);
        pf_graph_sort(&g);
        char *text = written_dot(&g);
        Agraph_t *cg = agmemread(text);
        assert_non_null(cg);
        assert_int_equal(agnnodes(cg), 2);
        assert_int_equal(agnedges(cg), 1);
        Agnode_t *n = agnode(cg, (char *) id, 0);
        assert_non_null(n);
        assert_string_equal(agget(n, "label"), "say \"hi\"\\\\\\nthere");
        Agedge_t *e = agfstout(cg, n);
        assert_non_null(e);
        assert_string_equal(agnameof(aghead(e)), "link:eno1");
        assert_string_equal(agget(e, "label"), "a \"label\"");
        agclose(cg);
        free(text);
        pf_graph_free(&g);
}
#endif

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_quote), cmocka_unit_test(test_id), cmocka_unit_test(test_merge),
                cmocka_unit_test(test_write_dot),
#ifdef HAVE_LIBCGRAPH
                cmocka_unit_test(test_cgraph_reads_it),
#endif
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
