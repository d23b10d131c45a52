#include "config.h"
#include "run/reconcile.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/validate.h"
#include "config/values.h"
#include "engine/apply.h"
#include "engine/capacity.h"
#include "engine/plan.h"
#include "graph/graph.h"
#include "kinds/link.h"
#include "libvirt/conn.h"
#include "netlink/rtnl.h"
#include "nft/nft.h"
#include "resolve/masq.h"
#include "run/exit.h"
#include "run/stages.h"
#include "util/suggest.h"
#include "util/xalloc.h"

void pf_run_check(pf_config *c) {
        pf_validate(c);
        pf_attach_check(&c->model, &c->diags);
}

const char *pf_scope_host(pf_config *c, const char *cli_host) {
        if (cli_host)
                return cli_host;
        if (c->model.hosts.n == 1)
                return c->model.hosts.v[0].meta.name;
        /* in the configuration's arena, which outlives the run: no static buffer to share */
        char name[HOST_NAME_MAX + 1] = "";
        if (gethostname(name, sizeof(name)) < 0 || !memchr(name, '\0', sizeof(name)))
                return "localhost";
        name[strcspn(name, ".")] = '\0';
        return pf_arena_strdup(&c->arena, name);
}

char *pf_check_host(const pf_config *c, const char *cli_host) {
        const pf_model *m = &c->model;
        if (!cli_host || !m->hosts.n)
                return NULL;
        const char **names = pf_xcalloc(m->hosts.n, sizeof(*names));
        for (size_t i = 0; i < m->hosts.n; i++) {
                names[i] = m->hosts.v[i].meta.name;
                if (names[i] && !strcmp(names[i], cli_host)) {
                        free(names);
                        return NULL;
                }
        }
        char *msg = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&msg, &len);
        if (!f)
                pf_oom();
        const char *near = pf_suggest(cli_host, names, m->hosts.n);
        fprintf(f, "--host '%s': no Host document has that name", cli_host);
        fprintf(f, "; the configuration's Host%s ", m->hosts.n == 1 ? " is" : "s are");
        for (size_t i = 0; i < m->hosts.n; i++) {
                const pf_meta *h = &m->hosts.v[i].meta;
                fprintf(f, "%s%s (%s:%u)", i ? ", " : "", h->name ? h->name : "?",
                        h->name_loc.src && h->name_loc.src->path ? h->name_loc.src->path : "?", h->name_loc.line);
        }
        fprintf(f, "; name one of them, or declare a Host '%s'", cli_host);
        if (near)
                fprintf(f, "; did you mean \"%s\"?", near);
        fclose(f);
        free(names);
        return msg;
}

static const pf_host *find_host(const pf_config *c, const char *host_name) {
        for (size_t i = 0; i < c->model.hosts.n; i++)
                if (!strcmp(c->model.hosts.v[i].meta.name, host_name))
                        return &c->model.hosts.v[i];
        return NULL;
}

const char *pf_scope_uri(const pf_config *c, const char *host_name, const char *cli_uri) {
        if (cli_uri)
                return cli_uri;
        const pf_host *h = find_host(c, host_name);
        return h ? h->connect : "qemu:///system";
}

static bool applies(const pf_meta *m, const char *host_name) { return !m->host || !strcmp(m->host, host_name); }

/* The model restricted to one host (fleet repositories scope resources with metadata.host). */
static void scope_model(pf_arena *a, const pf_model *in, const char *host_name, pf_model *out) {
#define SCOPE(list)                                                                          \
        do {                                                                                 \
                out->list.v = pf_arena_array(a, in->list.n ? in->list.n : 1, sizeof(*in->list.v)); \
                out->list.n = 0;                                                             \
                for (size_t i = 0; i < in->list.n; i++)                                      \
                        if (applies(&in->list.v[i].meta, host_name))                         \
                                out->list.v[out->list.n++] = in->list.v[i];                  \
        } while (0)
        SCOPE(hosts);
        SCOPE(subnets);
        SCOPE(bridges);
        SCOPE(macvtaps);
        SCOPE(macvlans);
        SCOPE(networks);
        SCOPE(pools);
        SCOPE(vms);
        SCOPE(vxlans);
#undef SCOPE
}

static bool ask(const pf_run_opts *o, size_t n) {
        /* on stderr: the prompt must show even with -q */
        fprintf(o->err, "Delete the %zu object%s marked for deletion above? Type 'yes' to go on: ", n, n == 1 ? "" : "s");
        fflush(o->err);
        char line[64];
        if (!fgets(line, sizeof(line), stdin))
                return false;
        line[strcspn(line, "\n")] = '\0';
        return !strcmp(line, "yes");
}

static int plan_once(pf_kind_ctx *k, const pf_plan_opts *po, pf_stage *s, pf_diags *d, FILE *err) {
        char *e = NULL;
        if (pf_stages_plan(k, po, s, d, &e) < 0) {
                fprintf(err, "podform: %s\n", e);
                free(e);
                return -1;
        }
        return 0;
}

/* Plan, and print the errors if the configuration cannot be planned against this host. */
static int plan_checked(pf_kind_ctx *k, const pf_plan_opts *po, pf_stage *s, const pf_run_opts *o) {
        pf_diags d = { 0 };
        int ret = plan_once(k, po, s, &d, o->err);
        if (ret == 0 && d.n_errors) {
                fflush(o->out);
                pf_diag_sort(&d);
                pf_diag_print(&d, o->err, o->color);
                fprintf(o->err, "podform: %zu error%s; nothing was changed\n", d.n_errors, d.n_errors == 1 ? "" : "s");
                ret = -1;
        }
        pf_diag_free(&d);
        return ret;
}

static void print_plan(const pf_kind_ctx *k, const pf_stage *s, const pf_run_opts *o) {
        if (o->verbose && !o->json)
                fprintf(o->out, "Observed the host: %lu netlink requests (each one round trip; dumps included).\n",
                        pf_nl_round_trips(k->nl));
        if (o->json)
                pf_plan_print_json(&s->plan, o->out, o->host_name, pf_lv_uri(k->lv), &s->attach);
        else if (!o->quiet || !pf_plan_empty(&s->plan)) {
                pf_attach_print_text(&s->attach, o->out, o->verbose);
                pf_plan_print_text(&s->plan, o->out, o->color, o->verbose);
        }
}

/* A plan, a dry run, or an apply with nothing to do. */
static int without_changes(const pf_kind_ctx *k, const pf_stage *s, const pf_run_opts *o, unsigned long lv_before,
                           unsigned long nl_before, unsigned long nft_before) {
        bool changes = !pf_plan_empty(&s->plan);
        /* observing may have forgotten ports released by hand: an apply records that even when
         * nothing else changes (a plan only reads the record) */
        char *e = NULL;
        if (o->apply && !o->dry_run && pf_nl_save(k->nl, &e) < 0) {
                fprintf(o->err, "podform: %s\n", e);
                free(e);
                return PF_EXIT_ERROR;
        }
        if (o->apply && !changes && !o->json)
                fprintf(o->out, "Applied nothing: %lu mutating libvirt calls, %lu netlink changes, %lu nftables "
                        "transactions.\n", pf_lv_mutations(k->lv) - lv_before, pf_nl_mutations(k->nl) - nl_before,
                        pf_nft_mutations(k->nft) - nft_before);
        return changes && o->detailed_exitcode ? PF_EXIT_CHANGES : PF_EXIT_OK;
}

static bool deletions_confirmed(const pf_stage *s, const pf_run_opts *o) {
        /* the plan first, then what is said of it, even when stdout is a pipe */
        fflush(o->out);
        if (!s->plan.n_delete || o->yes || (o->interactive && ask(o, s->plan.n_delete)))
                return true;
        fprintf(o->err, "podform: %s; nothing was changed (give --yes to delete without asking)\n",
                o->interactive ? "deletion not confirmed" : "the plan deletes objects and no terminal can confirm it");
        return false;
}

/* Verify: observe again; whatever still differs did not take effect. The changes left, or 1
 * when the host cannot be planned again. */
static size_t verify(pf_kind_ctx *k, const pf_plan_opts *po, const pf_apply_result *r, const pf_run_opts *o) {
        pf_diags vd = { 0 };
        pf_stage v = { 0 };
        int vr = plan_once(k, po, &v, &vd, o->err);
        if (vd.n_errors) {      /* the host as it is now cannot be planned again: say why */
                fputs("Verify: planning again against the host as it is now fails:\n", o->out);
                fflush(o->out);
                pf_diag_sort(&vd);
                pf_diag_print(&vd, o->err, o->color);
                vr = -1;
        }
        pf_diag_free(&vd);
        size_t left = vr == 0 ? v.plan.actions.n : 1;
        if (vr == 0 && left && r->n_failed + r->n_skipped == 0) {
                fputs("Verify: these changes did not take effect:\n", o->out);
                pf_plan_print_text(&v.plan, o->out, o->color, false);
        } else if (vr == 0 && !left) {
                fputs("Verify: observed the host again; no changes remain.\n", o->out);
        }
        pf_stage_free(&v);
        return left;
}

unsigned pf_parallel_default(void) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        return cpus < 1 ? 1 : cpus >= 2 ? 4 : 2;
}

/* Whether the plan has two libvirt actions apply could run at once (one step, engine/apply.h):
 * else the host's own connection is all it needs. */
static bool side_by_side(const pf_plan *p) {
        for (size_t i = 1; i < p->actions.n; i++) {
                const pf_action *a = &p->actions.v[i - 1], *b = &p->actions.v[i];
                if (a->kind == b->kind && !pf_rkind_is_link(a->kind) && (a->op == PF_OP_DELETE) == (b->op == PF_OP_DELETE))
                        return true;
        }
        return false;
}

/* The workers of this apply: --parallel, as many as libvirt lets open (one connection each). */
static size_t apply_workers(pf_kind_ctx *k, const pf_plan *p, const pf_run_opts *o) {
        size_t want = o->parallel ? o->parallel : pf_parallel_default();
        if (want < 2 || !side_by_side(p))
                return 1;
        char *e = NULL;
        size_t n = pf_lv_open_workers(k->lv, want, &e);
        if (e) {
                fprintf(o->err, "podform: warning: %s; applying %zu at a time\n", e, n);
                free(e);
        }
        return n;
}

/* Plan, and apply unless asked not to, then verify. */
static int reconcile(pf_kind_ctx *k, const pf_plan_opts *po, const pf_run_opts *o) {
        unsigned long lv_before = pf_lv_mutations(k->lv), nl_before = pf_nl_mutations(k->nl),
                      nft_before = pf_nft_mutations(k->nft);
        pf_stage s = { 0 };
        int ret = -1;           /* -1: go on and apply */
        if (plan_checked(k, po, &s, o) < 0) {
                ret = PF_EXIT_ERROR;
        } else {
                print_plan(k, &s, o);
                if (!o->apply || o->dry_run || pf_plan_empty(&s.plan))
                        ret = without_changes(k, &s, o, lv_before, nl_before, nft_before);
                else if (!deletions_confirmed(&s, o))
                        ret = PF_EXIT_ERROR;
        }
        if (ret >= 0) {
                pf_stage_free(&s);
                return ret;
        }

        fputs("Applying:\n", o->out);
        pf_apply_result r = pf_stages_apply(k, &s.plan, apply_workers(k, &s.plan, o), o->out, o->color);
        char *e = NULL;
        if (pf_lv_save(k->lv, &e) < 0 || pf_nl_save(k->nl, &e) < 0) {
                fprintf(o->err, "podform: %s\n", e);
                free(e);
                r.n_failed++;
        }
        pf_stage_free(&s);
        size_t left = verify(k, po, &r, o);
        fprintf(o->out, "Apply: %zu done, %zu failed, %zu skipped.\n", r.n_ok, r.n_failed, r.n_skipped);
        if (r.n_failed + r.n_skipped == 0 && left == 0)
                return PF_EXIT_OK;
        return r.n_ok ? PF_EXIT_PARTIAL : PF_EXIT_ERROR;
}

/* What every run over the host needs: the configuration scoped to it (without one, an empty
 * model), its Host settings, and the kinds' context on the two transports. Stays in place while
 * in use (the links view points into it). */
typedef struct run_scope {
        pf_model model;
        pf_host defaults;
        pf_plan_opts po;
        pf_kind_ctx k;
} run_scope;

static void scope_begin(run_scope *r, pf_config *c, pf_lv_host *h, pf_nl_host *nl, const pf_run_opts *o) {
        *r = (run_scope) { 0 };
        pf_host_defaults(&r->defaults);
        const pf_host *host = c ? find_host(c, o->host_name) : NULL;
        if (c)
                scope_model(&c->arena, &c->model, o->host_name, &r->model);
        if (!host)
                host = &r->defaults;
        r->po = (pf_plan_opts) { .prune = c && (o->prune || host->prune), .allow_restart = o->allow_restart };
        r->k = (pf_kind_ctx) { .model = &r->model, .host = host, .host_name = o->host_name, .prune = r->po.prune,
                               .nl = nl, .lv = h };
        r->k.links = pf_links_view(&r->k);
        pf_links_index(&r->k);
        /* no kernel call until observed; without a context the nat kind says so if needed */
        char *err = NULL;
        r->k.nft = pf_nft_open(&err);
        free(err);
}

static void scope_end(run_scope *r) {
        pf_links_index_free(&r->k);
        pf_nft_close(r->k.nft);
}

int pf_reconcile(pf_config *c, pf_lv_host *h, pf_nl_host *nl, const pf_run_opts *o) {
        run_scope r;
        scope_begin(&r, c, h, nl, o);
        int ret = reconcile(&r.k, &r.po, o);
        scope_end(&r);
        return ret;
}

/* The Host document: its name and connection, and what podform sees of it as a comment. */
static int show_host(pf_lv_host *h, const char *host_name, pf_yaml_out *y, char **err) {
        unsigned cpus = 0;
        uint64_t kib = 0;
        if (pf_lv_node(h, &cpus, &kib, err) < 0)
                return -1;
        unsigned long v = pf_lv_version(h);
        pf_yaml_document(y, NULL);
        _cleanup_free_ char *guests = pf_lv_guests(h);
        pf_yaml_comment(y, "podform show of host %s: %u CPUs, %llu MiB of memory, libvirt %lu.%lu.%lu\nguests: %s",
                        host_name, cpus, (unsigned long long) (kib / 1024), v / 1000000, v / 1000 % 1000, v % 1000, guests);
        pf_yaml_scalar(y, "apiVersion", PF_YAML_STR, "podform/v1");
        pf_yaml_scalar(y, "kind", PF_YAML_STR, "Host");
        pf_yaml_map(y, "metadata");
        pf_yaml_scalar(y, "name", PF_YAML_STR, host_name);
        pf_yaml_end(y);
        pf_yaml_map(y, "spec");
        pf_yaml_scalar(y, "connect", PF_YAML_STR, pf_lv_uri(h));
        /* the range of podform's NAT network (the masquerade binding without passt) is the Host's */
        char gw[96], net[64];
        pf_cidr c;
        if (pf_lv_owned_network_ip(h, PF_MASQ_NETWORK, gw, sizeof(gw)) && !pf_parse_cidr(gw, false, &c)) {
                c = pf_cidr_network(&c);
                pf_yaml_scalar(y, "vmNetworkCIDR", PF_YAML_STR, pf_cidr_format(&c, net));
        }
        pf_yaml_end(y);
        return 0;
}

int pf_show(pf_lv_host *h, pf_nl_host *nl, const pf_run_opts *o) {
        run_scope r;
        scope_begin(&r, NULL, h, nl, o);
        pf_yaml_out y;
        pf_yaml_out_init(&y, o->out, o->json ? PF_YAML_OUT_JSON : PF_YAML_OUT_YAML);
        char *err = NULL;
        int rc = show_host(h, o->host_name, &y, &err);
        if (rc == 0)
                rc = pf_stages_show(&r.k, o->owned_only, &y, &err);
        scope_end(&r);
        pf_yaml_out_finish(&y);
        if (rc < 0) {
                fprintf(o->err, "podform: %s\n", err);
                free(err);
                return PF_EXIT_ERROR;
        }
        return PF_EXIT_OK;
}

/* The errors of a plan drawn all the same: said on stderr, and in the exit code. */
static int graph_errors(pf_diags *d, const pf_run_opts *o) {
        if (!d->n_errors)
                return PF_EXIT_OK;
        pf_diag_sort(d);
        pf_diag_print(d, o->err, o->color);
        fprintf(o->err, "podform: %zu error%s against this host; the graph leaves out what %s concern%s\n", d->n_errors,
                d->n_errors == 1 ? "" : "s", d->n_errors == 1 ? "it" : "they", d->n_errors == 1 ? "s" : "");
        return PF_EXIT_ERROR;
}

static int graph_out(pf_kind_ctx *k, const pf_plan_opts *po, bool planned, const pf_run_opts *o, const char *format) {
        pf_graph g;
        pf_graph_init(&g);
        g.title = pf_arena_printf(&g.arena, "podform graph: host %s%s", o->host_name,
                                  planned ? ", the plan" : ", as it is");
        pf_diags d = { 0 };
        char *err = NULL;
        int ret = PF_EXIT_ERROR;
        if (pf_stages_graph(k, po, &g, &d, &err) == 0) {
                ret = graph_errors(&d, o);
                pf_graph_sort(&g);
                if (pf_graph_render(&g, format, o->out, &err) < 0)
                        ret = PF_EXIT_ERROR;
        }
        if (err)
                fprintf(o->err, "podform: %s\n", err);
        free(err);
        pf_diag_free(&d);
        pf_graph_free(&g);
        return ret;
}

int pf_graph_host(pf_config *c, pf_lv_host *h, pf_nl_host *nl, const pf_run_opts *o, const char *format) {
        run_scope r;
        scope_begin(&r, c, h, nl, o);
        int ret = graph_out(&r.k, &r.po, c != NULL, o, format);
        scope_end(&r);
        return ret;
}
