/* render.c: the topology graph out, through Graphviz when podform is built with it: libcgraph
 * builds the graph and writes DOT, libgvc lays it out with dot and writes SVG, in process (no
 * `dot` command is run). Without them, DOT comes from podform's own writer (graph.c). */
#include "config.h"
#include "graph/graph.h"

#include <string.h>

#include "util/xalloc.h"

#ifdef HAVE_LIBCGRAPH
#include <graphviz/cgraph.h>
#endif
#ifdef HAVE_GVC
#include <graphviz/gvc.h>
#endif

#if defined(__SANITIZE_ADDRESS__)                /* gcc */
#define PF_ASAN 1
#elif defined(__has_feature)                    /* clang */
#if __has_feature(address_sanitizer)
#define PF_ASAN 1
#endif
#endif
#if defined(HAVE_GVC) && defined(PF_ASAN)
/* Under LeakSanitizer (--enable-sanitizers): Graphviz 2.42 keeps what gvContext's plugin
 * configuration and fontconfig's font cache allocate until exit, with no call to free it; those
 * are its leaks, not podform's. LSan asks the program for these. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void) {
        return "leak:libgvc.so\nleak:libfontconfig.so\nleak:libpango\nleak:libcairo.so\n";
}
#endif

bool pf_graph_can_svg(void) {
#ifdef HAVE_GVC
        return true;
#else
        return false;
#endif
}

#ifdef HAVE_LIBCGRAPH
static void set_attrs(void *obj, const pf_dot_attr *v, size_t n) {
        for (size_t i = 0; i < n; i++)
                agsafeset(obj, (char *) v[i].name, (char *) v[i].value, "");
}

/* The graph as libcgraph's: nodes and edges in the sorted order, so agwrite's is too. */
static Agraph_t *to_cgraph(pf_graph *g) {
        pf_dot_attr v[PF_GRAPH_MAX_ATTRS];
        Agraph_t *cg = agopen("podform", Agdirected, NULL);
        set_attrs(cg, v, pf_graph_attrs(g, v));
        for (size_t i = 0; i < g->n_nodes; i++) {
                Agnode_t *n = agnode(cg, (char *) g->nodes[i].id, 1);
                set_attrs(n, v, pf_graph_node_attrs(g, &g->nodes[i], v));
        }
        for (size_t i = 0; i < g->n_edges; i++) {
                const pf_graph_edge *e = &g->edges[i];
                Agnode_t *from = agnode(cg, (char *) e->from, 1), *to = agnode(cg, (char *) e->to, 1);
                set_attrs(agedge(cg, from, to, NULL, 1), v, pf_graph_edge_attrs(g, e, v));
        }
        return cg;
}
#endif

#ifdef HAVE_GVC
static int render_svg(Agraph_t *cg, FILE *f, char **err) {
        GVC_t *gvc = gvContext();
        int ret = 0;
        if (gvLayout(gvc, cg, "dot") != 0) {
                *err = pf_xasprintf("Graphviz cannot lay the graph out with dot (is its dot layout plugin "
                                    "installed and registered? run 'dot -c' as root)");
                ret = -1;
        } else {
                if (gvRender(gvc, cg, "svg", f) != 0) {
                        *err = pf_xasprintf("Graphviz cannot render SVG (is its core plugin installed?)");
                        ret = -1;
                }
                gvFreeLayout(gvc, cg);
        }
        gvFreeContext(gvc);
        return ret;
}
#endif

int pf_graph_render(pf_graph *g, const char *format, FILE *f, char **err) {
        bool svg = format && !strcmp(format, "svg");
        if (svg && !pf_graph_can_svg()) {
                *err = pf_xasprintf("--output svg: podform was built without Graphviz (libgvc); write DOT and "
                                    "render it with 'dot -Tsvg', or rebuild with libgraphviz-dev installed");
                return -1;
        }
#ifdef HAVE_LIBCGRAPH
        Agraph_t *cg = to_cgraph(g);
        int ret = 0;
#ifdef HAVE_GVC
        if (svg)
                ret = render_svg(cg, f, err);
        else
#endif
        if (agwrite(cg, f) != 0) {
                *err = pf_xasprintf("cannot write the graph");
                ret = -1;
        }
        agclose(cg);
        return ret;
#else
        pf_graph_write_dot(g, f);
        return 0;
#endif
}
