/* test_attach: where the rules of podform.yaml(5), RESOLUTION (the pod network, MAAS bug 1789521;
 * interface constraints; DHCP boot options) put each interface, from a configuration loaded from
 * text and facts about the host given as small tables. Each case is a table row: the YAML, the
 * live libvirt networks, host links and owned domains' NICs, and what must come out: every
 * attachment (target, rule, rule (d), kept, Subnet, address, the candidates passed over), every
 * error (message and line:column), every boot option. Counts are exact, so a case also fails on
 * an attachment, error or boot option it did not expect. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config/load.h"
#include "config/validate.h"
#include "run/reconcile.h"
#include "config/values.h"
#include "engine/plan.h"
#include "model/names.h"
#include "resolve/attach.h"

#define HDR(kind, name) "apiVersion: podform/v1\nkind: " kind "\nmetadata: {name: " name "}\n"
#define DOC "---\n"
/* A VM whose one interface is on the pod network with the bridge binding. */
#define POD_VM(name)                                                                          \
        HDR("VirtualMachine", name)                                                           \
        "spec:\n  domain: {devices: {interfaces: [{name: default, bridge: {}}]}}\n"          \
        "  networks: [{name: default, pod: {}}]\n"
/* A VM whose interface pxe (bridge binding) is placed by constraints `c` (a flow mapping). */
#define CONS_VM(name, c)                                                                      \
        HDR("VirtualMachine", name)                                                           \
        "spec:\n  domain: {devices: {interfaces: [{name: pxe, bridge: {}}]}}\n"              \
        "  networks:\n    - name: pxe\n      constraints: " c "\n"

/* fail_msg() cuts long messages: the row name and the whole text go to stderr first */
#define FAIL(...)                                             \
        do {                                                  \
                fprintf(stderr, "ERROR: " __VA_ARGS__);       \
                fputc('\n', stderr);                          \
                fail();                                       \
                abort(); /* not reached: fail() jumps */      \
        } while (0)

/* ---- rows ---- */

typedef struct net_row {
        const char *name;
        bool active, dhcp, managed, owned;
        const char *bridge;
        const char *devs[3];
} net_row;

typedef struct link_row { const char *name, *kind, *port_of; } link_row;

typedef struct nic_row { const char *vm, *iface, *type, *source, *ip; } nic_row;

/* One attachment that must exist, found by VM and interface name. */
typedef struct want_att {
        const char *vm, *iface;
        const char *type;               /* "network", "bridge", "direct", "user" */
        const char *source;
        const char *mode;               /* checked for "direct" only */
        const char *rule;               /* pf_attach_rule_name */
        bool by_d, kept;
        const char *subnet;             /* NULL: none */
        const char *ip;                 /* NULL: none */
        const char *reason;             /* a substring of the reason, or NULL */
        const char *passed[8];          /* in order, a substring of each passed_over entry; the count is exact */
        bool any_passed;                /* passed_over not checked */
} want_att;

/* One error of the rules that must exist: at the nth (0-based) occurrence of `at` in the YAML,
 * its message holding every msg; with `ref`, it also names inline.yaml:LINE of the ref_nth
 * occurrence of ref. With `config`, the configuration alone decides it, so pf_validate reports
 * it too (podform validate has no host); validation reports exactly those errors. */
typedef struct want_err {
        const char *at;
        int nth;
        const char *msg[7];
        const char *ref;
        int ref_nth;
        bool config;
} want_err;

typedef struct want_bootp {
        const char *network;
        size_t ip_index;
        const char *file, *server;      /* server NULL: none */
} want_bootp;

typedef struct row {
        const char *name, *yaml;
        net_row nets[4];
        link_row links[10];
        nic_row nics[4];
        want_att att[4];
        want_err err[5];
        want_bootp bootp[2];
        bool prune;                     /* the run prunes (facts.prune) */
} row;

/* ---- facts from a row ---- */

static const char *cb_link_kind(void *ud, const char *ifname) {
        const row *t = ud;
        for (size_t i = 0; i < 10 && t->links[i].name; i++)
                if (!strcmp(t->links[i].name, ifname))
                        return t->links[i].kind;
        return NULL;
}

static const char *cb_port_of(void *ud, const char *ifname) {
        const row *t = ud;
        for (size_t i = 0; i < 10 && t->links[i].name; i++)
                if (!strcmp(t->links[i].name, ifname))
                        return t->links[i].port_of;
        return NULL;
}

typedef struct fx {
        pf_config c;
        pf_host host;
        pf_net_fact nets[4];
        pf_nic_fact nics[4];
        pf_attach_facts facts;
        pf_attach_result r;
        pf_diags d;
} fx;

/* Load text that must load without errors, then validate it; validation's errors stay in
 * c->diags (it checks what the configuration alone decides: see want_err.config). */
static void load_text(pf_config *c, const char *name, const char *text, bool validate) {
        pf_config_init(c);
        pf_config_load_buffer(c, "inline.yaml", text, strlen(text));
        if (c->diags.n_errors) {
                pf_diag_sort(&c->diags);
                pf_diag_print(&c->diags, stderr, false);
                FAIL("%s: the YAML does not load: %zu errors", name, c->diags.n_errors);
        }
        if (validate)
                pf_run_check(c);
}

/* Load the row's YAML, build its facts and run the rules. */
static fx *fx_run(const row *t) {
        fx *f = calloc(1, sizeof(*f));
        assert_non_null(f);
        load_text(&f->c, t->name, t->yaml, true);
        if (f->c.model.hosts.n)
                f->host = f->c.model.hosts.v[0];
        else
                pf_host_defaults(&f->host);
        size_t nn = 0, nk = 0;
        for (; nn < 4 && t->nets[nn].name; nn++) {
                const net_row *x = &t->nets[nn];
                size_t nd = 0;
                while (nd < 3 && x->devs[nd])
                        nd++;
                f->nets[nn] = (pf_net_fact) { .name = x->name, .owned = x->owned, .active = x->active, .dhcp = x->dhcp,
                                              .managed = x->managed, .bridge = x->bridge, .devs = x->devs,
                                              .n_devs = nd };
        }
        for (; nk < 4 && t->nics[nk].vm; nk++) {
                const nic_row *x = &t->nics[nk];
                f->nics[nk] = (pf_nic_fact) { .vm = x->vm, .iface = x->iface, .type = x->type, .source = x->source };
                if (x->ip) {
                        assert_null(pf_parse_ip(x->ip, &f->nics[nk].ip));
                        f->nics[nk].has_ip = true;
                }
        }
        f->facts = (pf_attach_facts) { .networks = f->nets, .n_networks = nn, .nics = f->nics, .n_nics = nk,
                                       .links = { .kind = cb_link_kind, .port_of = cb_port_of, .ud = (void *) t },
                                       .prune = t->prune };
        pf_attach_resolve(&f->c.model, &f->host, &f->facts, &f->r, &f->d);
        return f;
}

static void fx_free(fx *f) {
        pf_attach_free(&f->r);
        pf_diag_free(&f->d);
        pf_config_free(&f->c);
        free(f);
}

/* ---- checks ---- */

/* Line and column (1-based) of occurrence nth (0-based) of needle in text. */
static void pos_of(const char *name, const char *text, const char *needle, int nth, uint32_t *line, uint32_t *col) {
        const char *p = strstr(text, needle);
        for (int k = 0; p && k < nth; k++)
                p = strstr(p + 1, needle);
        if (!p)
                FAIL("%s: test bug: occurrence %d of \"%s\" not in the text", name, nth, needle);
        *line = 1;
        const char *bol = text;
        for (const char *q = text; q < p; q++)
                if (*q == '\n') {
                        (*line)++;
                        bol = q + 1;
                }
        *col = (uint32_t) (p - bol) + 1;
}

static void dump_diags(const pf_diags *d) {
        for (size_t i = 0; i < d->n; i++)
                fprintf(stderr, "  have: %u:%u %s\n", d->v[i].loc.line, d->v[i].loc.col, d->v[i].msg);
}

/* Some error of d is at the position of the wanted needle and holds every wanted substring. */
static void check_error(const char *name, const char *text, const pf_diags *d, const want_err *w) {
        uint32_t line, col;
        pos_of(name, text, w->at, w->nth, &line, &col);
        char ref[64] = "";
        if (w->ref) {
                uint32_t rl, rc;
                pos_of(name, text, w->ref, w->ref_nth, &rl, &rc);
                snprintf(ref, sizeof(ref), "inline.yaml:%u", rl);
        }
        for (size_t i = 0; i < d->n; i++) {
                const pf_diag *x = &d->v[i];
                if (x->severity != PF_ERROR || x->loc.line != line || x->loc.col != col)
                        continue;
                bool all = !ref[0] || strstr(x->msg, ref);
                for (size_t k = 0; k < 7 && w->msg[k]; k++)
                        all = all && strstr(x->msg, w->msg[k]);
                if (all) {
                        assert_non_null(x->loc.src);
                        assert_string_equal(x->loc.src->path, "inline.yaml");
                        return;
                }
        }
        dump_diags(d);
        FAIL("%s: no error at %u:%u (\"%s\") holding \"%s\"%s%s", name, line, col, w->at, w->msg[0],
             ref[0] ? " and " : "", ref);
}

static const pf_attachment *find_att(const pf_attach_result *r, const char *vm, const char *iface) {
        for (size_t i = 0; i < r->n; i++)
                if (!strcmp(r->v[i].vm->meta.name, vm) && r->v[i].iface->name && !strcmp(r->v[i].iface->name, iface))
                        return &r->v[i];
        return NULL;
}

static const char *const TYPES[] = { [PF_TARGET_NETWORK] = "network", [PF_TARGET_BRIDGE] = "bridge",
                                     [PF_TARGET_DIRECT] = "direct", [PF_TARGET_USER] = "user" };

static void dump_att(const pf_attachment *x) {
        fprintf(stderr, "  got: %s %s rule %s by_d %d kept %d subnet %s\n  reason: %s\n", TYPES[x->target], x->source,
                pf_attach_rule_name(x->rule), x->by_d, x->kept, x->subnet ? x->subnet->meta.name : "-", x->reason);
        for (size_t i = 0; i < x->n_passed_over; i++)
                fprintf(stderr, "  passed over: %s\n", x->passed_over[i]);
}

#define ATT_CHECK(cond, ...)                                                                  \
        do {                                                                                  \
                if (!(cond)) {                                                                \
                        dump_att(x);                                                          \
                        FAIL(__VA_ARGS__);                                                    \
                }                                                                             \
        } while (0)

static void check_att(const char *name, const pf_attach_result *r, const want_att *w) {
        const pf_attachment *x = find_att(r, w->vm, w->iface);
        if (!x)
                FAIL("%s: no attachment for vm %s interface %s", name, w->vm, w->iface);
        ATT_CHECK(!strcmp(TYPES[x->target], w->type) && !strcmp(x->source, w->source), "%s: %s/%s: target %s %s, want %s %s",
                  name, w->vm, w->iface, TYPES[x->target], x->source, w->type, w->source);
        if (x->target == PF_TARGET_DIRECT)
                ATT_CHECK(w->mode && !strcmp(pf_enum_name(&pf_macvlan_mode_enum, x->mode), w->mode), "%s: mode %s, want %s",
                          name, pf_enum_name(&pf_macvlan_mode_enum, x->mode), w->mode ? w->mode : "(unset)");
        ATT_CHECK(!strcmp(pf_attach_rule_name(x->rule), w->rule), "%s: rule %s, want %s", name,
                  pf_attach_rule_name(x->rule), w->rule);
        ATT_CHECK(x->by_d == w->by_d, "%s: by_d %d, want %d", name, x->by_d, w->by_d);
        ATT_CHECK(x->kept == w->kept, "%s: kept %d, want %d", name, x->kept, w->kept);
        if (w->subnet)
                ATT_CHECK(x->subnet && !strcmp(x->subnet->meta.name, w->subnet), "%s: subnet %s, want %s", name,
                          x->subnet ? x->subnet->meta.name : "(none)", w->subnet);
        else
                ATT_CHECK(!x->subnet, "%s: subnet %s, want none", name, x->subnet->meta.name);
        char ip[64];
        if (w->ip)
                ATT_CHECK(x->has_ip && !strcmp(pf_ip_format(&x->ip, ip), w->ip), "%s: ip %s, want %s", name,
                          x->has_ip ? pf_ip_format(&x->ip, ip) : "(none)", w->ip);
        else
                ATT_CHECK(!x->has_ip, "%s: ip %s, want none", name, pf_ip_format(&x->ip, ip));
        if (w->reason)
                ATT_CHECK(x->reason && strstr(x->reason, w->reason), "%s: reason lacks \"%s\"", name, w->reason);
        if (w->any_passed)
                return;
        size_t n = 0;
        while (n < 8 && w->passed[n])
                n++;
        ATT_CHECK(x->n_passed_over == n, "%s: %zu passed over, want %zu", name, x->n_passed_over, n);
        for (size_t i = 0; i < n; i++)
                ATT_CHECK(strstr(x->passed_over[i], w->passed[i]), "%s: passed over [%zu] lacks \"%s\"", name, i,
                          w->passed[i]);
}

static void check_row(const row *t) {
        fx *f = fx_run(t);
        size_t na = 0, ne = 0, nb = 0;
        for (; na < 4 && t->att[na].vm; na++)
                check_att(t->name, &f->r, &t->att[na]);
        size_t nv = 0;
        for (; ne < 5 && t->err[ne].at; ne++) {
                check_error(t->name, t->yaml, &f->d, &t->err[ne]);
                if (t->err[ne].config) {
                        check_error(t->name, t->yaml, &f->c.diags, &t->err[ne]);
                        nv++;
                }
        }
        if (f->c.diags.n_errors != nv) {
                dump_diags(&f->c.diags);
                FAIL("%s: validation reports %zu errors, want %zu", t->name, f->c.diags.n_errors, nv);
        }
        if (f->r.n != na) {
                for (size_t i = 0; i < f->r.n; i++)
                        fprintf(stderr, "  attachment: %s/%s\n", f->r.v[i].vm->meta.name, f->r.v[i].iface->name);
                FAIL("%s: %zu attachments, want %zu", t->name, f->r.n, na);
        }
        if (f->d.n_errors != ne) {
                dump_diags(&f->d);
                FAIL("%s: %zu errors, want %zu", t->name, f->d.n_errors, ne);
        }
        for (; nb < 2 && t->bootp[nb].network; nb++) {
                const want_bootp *w = &t->bootp[nb];
                /* in configuration order; pf_attach_bootp finds a Network's first */
                const pf_bootp *b = nb < f->r.n_bootps ? &f->r.bootps[nb] : NULL;
                if (!b || strcmp(b->network->meta.name, w->network))
                        FAIL("%s: no boot options for Network %s", t->name, w->network);
                if (pf_attach_bootp(&f->r, b->network)->network != b->network)
                        FAIL("%s: pf_attach_bootp misses Network %s", t->name, w->network);
                if (b->ip_index != w->ip_index || strcmp(b->file, w->file) ||
                    (w->server ? !b->server || strcmp(b->server, w->server) : b->server != NULL))
                        FAIL("%s: Network %s serves ips[%zu] file %s server %s, want ips[%zu] %s %s", t->name, w->network,
                             b->ip_index, b->file, b->server ? b->server : "(none)", w->ip_index, w->file,
                             w->server ? w->server : "(none)");
        }
        if (f->r.n_bootps != nb)
                FAIL("%s: %zu boot options, want %zu", t->name, f->r.n_bootps, nb);
        fx_free(f);
}

static void check_rows(const row *rows, size_t n) {
        for (size_t i = 0; i < n; i++)
                check_row(&rows[i]);
}

#define ROWS(v) check_rows((v), sizeof(v) / sizeof((v)[0]))

/* Facts used by many rows. */
#define LIVE_MAAS { "maas", .active = true, .managed = true, .bridge = "virbr1" }
#define LIVE_MAAS_DHCP { "maas", .active = true, .managed = true, .dhcp = true, .bridge = "virbr1" }
#define LIVE_DEFAULT { "default", .active = true, .managed = true, .bridge = "virbr0" }
#define LIVE_DEFAULT_DHCP { "default", .active = true, .managed = true, .dhcp = true, .bridge = "virbr0" }
#define NO_MAAS "libvirt network 'maas': (a) no such libvirt network"
#define NO_DEFAULT "libvirt network 'default': (a) no such libvirt network"
#define MAAS_DHCP "libvirt network 'maas': (a) its libvirt DHCP is on"
#define DEFAULT_DHCP "libvirt network 'default': (a) its libvirt DHCP is on"

/* ---- rule (a): maas, then default, never with libvirt DHCP ---- */

static const row RULE_A[] = {
        { "maas before default", POD_VM("web1"),
          .nets = { LIVE_DEFAULT, LIVE_MAAS },
          .att = { { "web1", "default", "network", "maas", .rule = "a",
                     .reason = "libvirt network 'maas' (on the host): it exists and its libvirt DHCP is off (a), and libvirt manages it (b)" } } },
        { "maas with DHCP is skipped for default", POD_VM("web1"),
          .nets = { LIVE_MAAS_DHCP, LIVE_DEFAULT },
          .att = { { "web1", "default", "network", "default", .rule = "a", .reason = "libvirt network 'default' (on the host)",
                     .passed = { MAAS_DHCP } } } },
        { "both with DHCP: rule (c)",
          HDR("Subnet", "pxe") "spec: {cidr: 10.20.0.0/24, dhcp: managed, interfaces: [br-pxe]}\n" DOC POD_VM("web1"),
          .nets = { LIVE_MAAS_DHCP, LIVE_DEFAULT_DHCP },
          .links = { { "br-pxe", "bridge" } },
          .att = { { "web1", "default", "bridge", "br-pxe", .rule = "c1", .subnet = "pxe",
                     .reason = "host bridge br-pxe is on the VLAN of Subnet pxe (dhcp: managed, 254 free addresses) (c1)",
                     .passed = { MAAS_DHCP, DEFAULT_DHCP } } } },
        { "a declared maas counts as existing",
          HDR("Network", "maas") "spec: {forward: nat, bridge: {name: virbr1, stp: false}}\n" DOC POD_VM("web1"),
          .nets = { LIVE_DEFAULT },
          .att = { { "web1", "default", "network", "maas", .rule = "a", .reason = "libvirt network 'maas' (declared)" } } },
        { "a declared maas without DHCP overrides a live one with DHCP",
          HDR("Network", "maas") "spec: {forward: nat, ips: [{address: 172.16.99.1, prefix: 24}]}\n" DOC POD_VM("web1"),
          .nets = { LIVE_MAAS_DHCP, LIVE_DEFAULT },
          .att = { { "web1", "default", "network", "maas", .rule = "a", .reason = "(declared)" } } },
        { "a declared maas with DHCP overrides a live one without",
          HDR("Network", "maas")
          "spec: {forward: nat, ips: [{address: 172.16.99.1, prefix: 24, dhcp: {ranges: [{start: 172.16.99.100, end: 172.16.99.200}]}}]}\n"
          DOC POD_VM("web1"),
          .nets = { LIVE_MAAS, LIVE_DEFAULT },
          .att = { { "web1", "default", "network", "default", .rule = "a", .passed = { MAAS_DHCP } } } },
        { "an inactive live maas is excluded", POD_VM("web1"),
          .nets = { { "maas", .active = false, .managed = true, .bridge = "virbr1" }, LIVE_DEFAULT },
          .att = { { "web1", "default", "network", "default", .rule = "a",
                     .passed = { "libvirt network 'maas': (a) inactive on the host" } } } },
        { "a declared maas with active: false is excluded, even if live and active",
          HDR("Network", "maas") "spec: {forward: nat, active: false}\n" DOC POD_VM("web1"),
          .nets = { LIVE_MAAS, LIVE_DEFAULT },
          .att = { { "web1", "default", "network", "default", .rule = "a",
                     .passed = { "libvirt network 'maas': (a) declared with active: false" } } } },
        { "neither exists: rule (c)",
          HDR("Subnet", "pxe") "spec: {cidr: 10.20.0.0/24, dhcp: relay, interfaces: [br0]}\n" DOC POD_VM("web1"),
          .links = { { "br0", "bridge" } },
          .att = { { "web1", "default", "bridge", "br0", .rule = "c1", .subnet = "pxe", .reason = "(dhcp: relay, 254 free",
                     .passed = { NO_MAAS, NO_DEFAULT } } } },
        { "the implicit interface and multus default: true are pod interfaces",
          HDR("VirtualMachine", "imp") "spec: {running: false}\n" DOC
          HDR("VirtualMachine", "mul")
          "spec:\n  domain: {devices: {interfaces: [{name: m, bridge: {}}]}}\n"
          "  networks: [{name: m, multus: {networkName: x, default: true}}]\n",
          .nets = { LIVE_MAAS },
          .att = { { "imp", "default", "network", "maas", .rule = "a" },
                   { "mul", "m", "network", "maas", .rule = "a",
                     .reason = "; networkName 'x' is not used: with default: true this is the pod network, which these "
                               "rules place" } } },
};

static void test_rule_a(void **state) {
        (void) state;
        ROWS(RULE_A);
}

/* ---- rule (b): a network that is not libvirt-managed must sit on a DHCP-enabled VLAN ---- */

static const row RULE_B[] = {
        { "a host-bridge network on a bridge of a managed Subnet",
          HDR("Subnet", "pxe") "spec: {cidr: 10.20.0.0/24, dhcp: managed, interfaces: [br-pxe]}\n" DOC POD_VM("web1"),
          .nets = { { "maas", .active = true, .bridge = "br-pxe" }, LIVE_DEFAULT },
          .links = { { "br-pxe", "bridge" } },
          .att = { { "web1", "default", "network", "maas", .rule = "a",
                     .reason = "its bridge br-pxe is on the VLAN of Subnet pxe (dhcp: managed) (b)" } } },
        { "a host-bridge network on a bridge of a relay Subnet",
          HDR("Subnet", "lab") "spec: {cidr: 10.40.0.0/24, dhcp: relay, interfaces: [br-lab]}\n" DOC POD_VM("web1"),
          .nets = { { "default", .active = true, .bridge = "br-lab" } },
          .links = { { "br-lab", "bridge" } },
          .att = { { "web1", "default", "network", "default", .rule = "a", .reason = "(dhcp: relay) (b)",
                     .passed = { NO_MAAS } } } },
        { "a host-bridge network on a bridge of a dhcp: external Subnet goes to (c)",
          HDR("Subnet", "ext") "spec: {cidr: 10.50.0.0/24, dhcp: external, interfaces: [br-ext]}\n" DOC
          HDR("Subnet", "pxe") "spec: {cidr: 10.20.0.0/24, dhcp: managed, interfaces: [br-pxe]}\n" DOC POD_VM("web1"),
          .nets = { { "maas", .active = true, .bridge = "br-ext" } },
          .links = { { "br-ext", "bridge" }, { "br-pxe", "bridge" } },
          .att = { { "web1", "default", "bridge", "br-pxe", .rule = "c1", .subnet = "pxe",
                     .passed = { "libvirt network 'maas': (b) it forwards to bridge br-ext, which no DHCP-enabled Subnet lists",
                                 NO_DEFAULT, "br-ext (Subnet ext): (c) its VLAN is not DHCP-enabled (dhcp: external" } } } },
        { "a host-bridge network on a bridge of a dhcp: none Subnet goes to (c)",
          HDR("Subnet", "lan") "spec: {cidr: 10.60.0.0/24, dhcp: none, interfaces: [br-lan]}\n" DOC
          HDR("Subnet", "pxe") "spec: {cidr: 10.20.0.0/24, dhcp: managed, interfaces: [br-pxe]}\n" DOC POD_VM("web1"),
          .nets = { { "default", .active = true, .bridge = "br-lan" } },
          .links = { { "br-lan", "bridge" }, { "br-pxe", "bridge" } },
          .att = { { "web1", "default", "bridge", "br-pxe", .rule = "c1", .subnet = "pxe",
                     .passed = { NO_MAAS, "libvirt network 'default': (b) it forwards to bridge br-lan",
                                 "br-lan (Subnet lan): (c) its VLAN is not DHCP-enabled (dhcp: none" } } } },
        { "a bridge no Subnet lists is excluded",
          HDR("Subnet", "pxe") "spec: {cidr: 10.20.0.0/24, dhcp: managed, interfaces: [eno1]}\n" DOC POD_VM("web1"),
          .nets = { { "maas", .active = true, .bridge = "br-other" } },
          .links = { { "eno1", "device" } },
          .att = { { "web1", "default", "direct", "eno1", "bridge", .rule = "c2", .subnet = "pxe",
                     .passed = { "libvirt network 'maas': (b) it forwards to bridge br-other", NO_DEFAULT } } } },
        { "forward devices of a relay Subnet qualify (live macvtap network)",
          HDR("Subnet", "lab") "spec: {cidr: 10.40.0.0/24, dhcp: relay, interfaces: [eno1]}\n" DOC POD_VM("web1"),
          .nets = { { "maas", .active = true, .devs = { "eno9", "eno1" } } },
          .links = { { "eno1", "device" } },
          .att = { { "web1", "default", "network", "maas", .rule = "a",
                     .reason = "its device eno1 is on the VLAN of Subnet lab (dhcp: relay) (b)" } } },
        { "forward devices of a declared macvtap network qualify",
          HDR("Subnet", "pxe") "spec: {cidr: 10.20.0.0/24, dhcp: managed, interfaces: [eno1]}\n" DOC
          HDR("Network", "maas") "spec: {forward: vepa, interfaces: [eno1]}\n" DOC POD_VM("web1"),
          .links = { { "eno1", "device" } },
          .att = { { "web1", "default", "network", "maas", .rule = "a",
                     .reason = "libvirt network 'maas' (declared): it exists and its libvirt DHCP is off (a), and its device eno1" } } },
        { "forward devices of a dhcp: external Subnet do not",
          HDR("Subnet", "ext") "spec: {cidr: 10.50.0.0/24, dhcp: external, interfaces: [eno1]}\n" DOC
          HDR("Subnet", "pxe") "spec: {cidr: 10.20.0.0/24, dhcp: managed, interfaces: [br-pxe]}\n" DOC POD_VM("web1"),
          .nets = { { "maas", .active = true, .devs = { "eno1" } } },
          .links = { { "eno1", "device" }, { "br-pxe", "bridge" } },
          .att = { { "web1", "default", "bridge", "br-pxe", .rule = "c1", .subnet = "pxe",
                     .passed = { "libvirt network 'maas': (b) none of its forward devices is listed by a DHCP-enabled Subnet",
                                 NO_DEFAULT, "eno1 (Subnet ext): (c) its VLAN is not DHCP-enabled" } } } },
        { "a network on nothing podform can match",
          HDR("Subnet", "pxe") "spec: {cidr: 10.20.0.0/24, dhcp: managed, interfaces: [br-pxe]}\n" DOC POD_VM("web1"),
          .nets = { { "maas", .active = true } },
          .links = { { "br-pxe", "bridge" } },
          .att = { { "web1", "default", "bridge", "br-pxe", .rule = "c1", .subnet = "pxe",
                     .passed = { "libvirt network 'maas': (b) it is on no bridge podform can match", NO_DEFAULT } } } },
};

static void test_rule_b(void **state) {
        (void) state;
        ROWS(RULE_B);
}

/* ---- rule (c): a host bridge, then a macvtap on a NIC, of a DHCP-enabled VLAN ---- */

static const row RULE_C[] = {
        { "c1 before c2, even when the NIC's Subnet has more free addresses",
          HDR("Subnet", "big") "spec: {cidr: 10.0.0.0/16, dhcp: managed, interfaces: [eno1]}\n" DOC
          HDR("Subnet", "small") "spec: {cidr: 10.20.0.0/28, dhcp: managed, interfaces: [br0]}\n" DOC POD_VM("web1"),
          .links = { { "eno1", "device" }, { "br0", "bridge" } },
          .att = { { "web1", "default", "bridge", "br0", .rule = "c1", .subnet = "small", .reason = "14 free addresses) (c1)",
                     .passed = { NO_MAAS, NO_DEFAULT, "eno1 (Subnet big): (c) a macvtap comes after a bridge" } } } },
        { "c2 uses the Host's defaultMacvlanMode",
          HDR("Host", "kvm01") "spec: {defaultMacvlanMode: vepa}\n" DOC
          HDR("Subnet", "pxe") "spec: {cidr: 10.20.0.0/24, dhcp: managed, interfaces: [eno1]}\n" DOC POD_VM("web1"),
          .links = { { "eno1", "device" } },
          .att = { { "web1", "default", "direct", "eno1", "vepa", .rule = "c2", .subnet = "pxe",
                     .reason = "a macvtap (mode vepa, the Host's default) on host NIC eno1, on the VLAN of Subnet pxe",
                     .passed = { NO_MAAS, NO_DEFAULT } } } },
        { "c2 without a Host: mode bridge",
          HDR("Subnet", "pxe") "spec: {cidr: 10.20.0.0/24, dhcp: managed, interfaces: [eno1]}\n" DOC POD_VM("web1"),
          .links = { { "eno1", "device" } },
          .att = { { "web1", "default", "direct", "eno1", "bridge", .rule = "c2", .subnet = "pxe", .any_passed = true } } },
        { "c2 excludes bridge ports, macvtap, macvlan and tun links, and unknown links",
          HDR("Subnet", "pxe")
          "spec: {cidr: 10.20.0.0/24, dhcp: managed, interfaces: [eno2, mvt0, mvl0, tap0, lo, ghost, eno9]}\n" DOC POD_VM("web1"),
          .links = { { "eno2", "device", "br9" }, { "mvt0", "macvtap" }, { "mvl0", "macvlan" }, { "tap0", "tun" },
                     { "lo", "device" }, { "eno9", "veth" } },
          .att = { { "web1", "default", "direct", "eno9", "bridge", .rule = "c2", .subnet = "pxe",
                     .passed = { NO_MAAS, NO_DEFAULT,
                                 "eno2 (Subnet pxe): (c2) it is a port of bridge br9, and the kernel puts no macvtap on a bridge port",
                                 "mvt0 (Subnet pxe): (c2) it is a macvtap", "mvl0 (Subnet pxe): (c2) it is a macvlan",
                                 "tap0 (Subnet pxe): (c2) it is a tun", "lo (Subnet pxe): (c2) it is a loopback device",
                                 "ghost (Subnet pxe): (c) no such link on the host, and none is declared" } } } },
};

static void test_rule_c(void **state) {
        (void) state;
        ROWS(RULE_C);
}

/* ---- rule (d): the most free addresses, IPv4 first, then by name ---- */

static const row RULE_D[] = {
        { "a DHCP-enabled Subnet without a free address is passed over by (d)",
          HDR("Subnet", "full") "spec: {cidr: 10.9.9.9/32, gateway: 10.9.9.9, dhcp: managed, interfaces: [br-full]}\n" DOC
          HDR("Subnet", "pxe") "spec: {cidr: 10.20.0.0/24, dhcp: relay, interfaces: [eno1]}\n" DOC POD_VM("web1"),
          .links = { { "br-full", "bridge" }, { "eno1", "device" } },
          .att = { { "web1", "default", "direct", "eno1", "bridge", .rule = "c2", .subnet = "pxe",
                     .passed = { NO_MAAS, NO_DEFAULT, "br-full (Subnet full): (d) its Subnet has no free address" } } } },
        { "the most free addresses wins over the name",
          HDR("Subnet", "a-small") "spec: {cidr: 10.1.0.0/24, dhcp: managed, interfaces: [br-a]}\n" DOC
          HDR("Subnet", "b-big") "spec: {cidr: 10.2.0.0/23, dhcp: managed, interfaces: [br-b]}\n" DOC POD_VM("web1"),
          .links = { { "br-a", "bridge" }, { "br-b", "bridge" } },
          .att = { { "web1", "default", "bridge", "br-b", .rule = "c1", .by_d = true, .subnet = "b-big",
                     .reason = "(dhcp: managed, 510 free addresses) (c1); rule (d): the most free addresses among 2",
                     .passed = { NO_MAAS, NO_DEFAULT, "br-a (Subnet a-small): (d) ranks after br-b: 254 free addresses" } } } },
        { "a tie goes by Subnet name",
          HDR("Subnet", "zeta") "spec: {cidr: 10.1.0.0/24, dhcp: managed, interfaces: [br-a]}\n" DOC
          HDR("Subnet", "alpha") "spec: {cidr: 10.2.0.0/24, dhcp: relay, interfaces: [br-z]}\n" DOC POD_VM("web1"),
          .links = { { "br-a", "bridge" }, { "br-z", "bridge" } },
          .att = { { "web1", "default", "bridge", "br-z", .rule = "c1", .by_d = true, .subnet = "alpha",
                     .reason = "as many free addresses as the next, and first by name",
                     .passed = { NO_MAAS, NO_DEFAULT, "br-a (Subnet zeta): (d) ranks after br-z: 254 free addresses, as many" } } } },
        { "a tie in one Subnet goes by interface name",
          HDR("Subnet", "one") "spec: {cidr: 10.1.0.0/24, dhcp: managed, interfaces: [br-z, br-a]}\n" DOC POD_VM("web1"),
          .links = { { "br-a", "bridge" }, { "br-z", "bridge" } },
          .att = { { "web1", "default", "bridge", "br-a", .rule = "c1", .by_d = true, .subnet = "one",
                     .passed = { NO_MAAS, NO_DEFAULT, "br-z (Subnet one): (d) ranks after br-a" } } } },
        { "IPv4 before IPv6, whatever the count",
          HDR("Subnet", "a6") "spec: {cidr: \"fd00::/64\", dhcp: managed, interfaces: [br6]}\n" DOC
          HDR("Subnet", "b4") "spec: {cidr: 10.1.0.0/28, dhcp: managed, interfaces: [br4]}\n" DOC POD_VM("web1"),
          .links = { { "br4", "bridge" }, { "br6", "bridge" } },
          .att = { { "web1", "default", "bridge", "br4", .rule = "c1", .by_d = true, .subnet = "b4",
                     .passed = { NO_MAAS, NO_DEFAULT, "br6 (Subnet a6): (d) ranks after br4" } } } },
        { "IPv6 subnets among themselves by free addresses",
          HDR("Subnet", "a6") "spec: {cidr: \"fd00::/120\", dhcp: managed, interfaces: [br-a]}\n" DOC
          HDR("Subnet", "b6") "spec: {cidr: \"fd01::/64\", dhcp: managed, interfaces: [br-b]}\n" DOC POD_VM("web1"),
          .links = { { "br-a", "bridge" }, { "br-b", "bridge" } },
          .att = { { "web1", "default", "bridge", "br-b", .rule = "c1", .by_d = true, .subnet = "b6",
                     .passed = { NO_MAAS, NO_DEFAULT, "br-a (Subnet a6): (d) ranks after br-b: 255 free addresses" } } } },
        { "rule (d) ranks among macvtaps too",
          HDR("Subnet", "a") "spec: {cidr: 10.1.0.0/25, dhcp: managed, interfaces: [eno1]}\n" DOC
          HDR("Subnet", "b") "spec: {cidr: 10.2.0.0/24, dhcp: managed, interfaces: [eno2]}\n" DOC POD_VM("web1"),
          .links = { { "eno1", "device" }, { "eno2", "device" } },
          .att = { { "web1", "default", "direct", "eno2", "bridge", .rule = "c2", .by_d = true, .subnet = "b",
                     .passed = { NO_MAAS, NO_DEFAULT, "eno1 (Subnet a): (d) ranks after eno2: 126 free addresses" } } } },
        { "gateway and reserved addresses count",
          HDR("Subnet", "a") "spec: {cidr: 10.1.0.0/24, dhcp: managed, gateway: 10.1.0.1, interfaces: [br-a]}\n" DOC
          HDR("Subnet", "b") "spec: {cidr: 10.2.0.0/24, dhcp: managed, reserved: [10.2.0.200], interfaces: [br-b]}\n" DOC
          HDR("Subnet", "c") "spec: {cidr: 10.3.0.0/24, dhcp: managed, reserved: [\"10.3.0.1-10.3.0.2\"], interfaces: [br-c]}\n"
          DOC POD_VM("web1"),
          .links = { { "br-a", "bridge" }, { "br-b", "bridge" }, { "br-c", "bridge" } },
          .att = { { "web1", "default", "bridge", "br-a", .rule = "c1", .by_d = true, .subnet = "a",
                     .reason = "as many free addresses as the next, and first by name",
                     .passed = { NO_MAAS, NO_DEFAULT, "br-b (Subnet b): (d) ranks after br-a: 253 free addresses, as many",
                                 "br-c (Subnet c): (d) ranks after br-a: 252 free addresses" } } } },
        { "constraint addresses of the configuration's VMs count",
          HDR("Subnet", "a") "spec: {cidr: 10.1.0.0/24, dhcp: managed, interfaces: [br-a]}\n" DOC
          HDR("Subnet", "b") "spec: {cidr: 10.2.0.0/24, dhcp: managed, interfaces: [br-b]}\n" DOC
          CONS_VM("db", "{subnet: b, ip: 10.2.0.50}") DOC POD_VM("web1"),
          .links = { { "br-a", "bridge" }, { "br-b", "bridge" } },
          .att = { { "db", "pxe", "bridge", "br-b", .rule = "constraints", .subnet = "b", .ip = "10.2.0.50" },
                   { "web1", "default", "bridge", "br-a", .rule = "c1", .by_d = true, .subnet = "a",
                     .reason = "the most free addresses",
                     .passed = { NO_MAAS, NO_DEFAULT, "br-b (Subnet b): (d) ranks after br-a: 253 free addresses" } } } },
        { "one bridge on two Subnets counts once, with its best",
          HDR("Subnet", "a") "spec: {cidr: 10.1.0.0/28, dhcp: managed, interfaces: [br-a]}\n" DOC
          HDR("Subnet", "b") "spec: {cidr: 10.2.0.0/24, dhcp: managed, interfaces: [br-a, br-b]}\n" DOC POD_VM("web1"),
          .links = { { "br-a", "bridge" }, { "br-b", "bridge" } },
          .att = { { "web1", "default", "bridge", "br-a", .rule = "c1", .by_d = true, .subnet = "b",
                     .passed = { NO_MAAS, NO_DEFAULT, "br-b (Subnet b): (d) ranks after br-a: 254 free addresses, as many" } } } },
};

static void test_rule_d(void **state) {
        (void) state;
        ROWS(RULE_D);
}

/* ---- rule (d) moves no live interface ---- */

#define TWO_BRIDGES_AND_A_NIC                                                                 \
        HDR("Subnet", "a") "spec: {cidr: 10.1.0.0/23, dhcp: managed, interfaces: [br-a]}\n" DOC  \
        HDR("Subnet", "b") "spec: {cidr: 10.2.0.0/24, dhcp: managed, interfaces: [br-b]}\n" DOC  \
        HDR("Subnet", "c") "spec: {cidr: 10.3.0.0/16, dhcp: managed, interfaces: [eno1]}\n" DOC

static const row KEPT[] = {
        { "a live NIC on a candidate of the winning rank stays",
          TWO_BRIDGES_AND_A_NIC POD_VM("web1") DOC POD_VM("web2") DOC POD_VM("web3"),
          .links = { { "br-a", "bridge" }, { "br-b", "bridge" }, { "eno1", "device" } },
          .nics = { { "web1", "default", "bridge", "br-b" }, { "web2", "default", "bridge", "br-a" },
                    { "web3", "other", "bridge", "br-b" } },
          .att = { { "web1", "default", "bridge", "br-b", .rule = "c1", .by_d = true, .kept = true, .subnet = "b",
                     .reason = "stays on br-b (Subnet b), where it is: that qualifies under rule (c1) too, and rule (d), "
                               "which ranks br-a first, only places new interfaces",
                     /* its own alternatives: the winner, not itself */
                     .passed = { NO_MAAS, NO_DEFAULT, "eno1 (Subnet c): (c) a macvtap comes after a bridge",
                                 "br-a (Subnet a): (d) ranks first, but the interface stays where it is" } },
                   { "web2", "default", "bridge", "br-a", .rule = "c1", .by_d = true, .subnet = "a", .any_passed = true },
                   /* another interface of web3 is on br-b: default is new */
                   { "web3", "default", "bridge", "br-a", .rule = "c1", .by_d = true, .subnet = "a", .any_passed = true } } },
        { "a live NIC on a candidate of a lower rank moves",
          TWO_BRIDGES_AND_A_NIC POD_VM("web1") DOC POD_VM("web2"),
          .links = { { "br-a", "bridge" }, { "br-b", "bridge" }, { "eno1", "device" } },
          .nics = { { "web1", "default", "direct", "eno1" }, { "web2", "default", "network", "maas" } },
          .att = { { "web1", "default", "bridge", "br-a", .rule = "c1", .by_d = true, .subnet = "a",
                     .passed = { NO_MAAS, NO_DEFAULT, "br-b (Subnet b): (d) ranks after br-a",
                                 "eno1 (Subnet c): (c) a macvtap comes after a bridge" } },
                   { "web2", "default", "bridge", "br-a", .rule = "c1", .by_d = true, .subnet = "a", .any_passed = true } } },
        { "no rule (d), nothing to keep: a live NIC on a lower rank moves",
          HDR("Subnet", "a") "spec: {cidr: 10.1.0.0/24, dhcp: managed, interfaces: [br-a, eno1]}\n" DOC POD_VM("web1"),
          .links = { { "br-a", "bridge" }, { "eno1", "device" } },
          .nics = { { "web1", "default", "direct", "eno1" } },
          .att = { { "web1", "default", "bridge", "br-a", .rule = "c1", .subnet = "a",
                     .passed = { NO_MAAS, NO_DEFAULT, "eno1 (Subnet a): (c) a macvtap comes after a bridge" } } } },
        { "rule (d) among macvtaps keeps a live one, in the Host's mode",
          HDR("Host", "kvm01") "spec: {defaultMacvlanMode: private}\n" DOC
          HDR("Subnet", "a") "spec: {cidr: 10.1.0.0/23, dhcp: managed, interfaces: [eno1]}\n" DOC
          HDR("Subnet", "b") "spec: {cidr: 10.2.0.0/24, dhcp: managed, interfaces: [eno2]}\n" DOC POD_VM("web1"),
          .links = { { "eno1", "device" }, { "eno2", "device" } },
          .nics = { { "web1", "default", "direct", "eno2" } },
          .att = { { "web1", "default", "direct", "eno2", "private", .rule = "c2", .by_d = true, .kept = true, .subnet = "b",
                     .any_passed = true } } },
        { "a constraints interface stays on its live candidate",
          HDR("Subnet", "a") "spec: {cidr: 10.1.0.0/23, space: s, interfaces: [br-a]}\n" DOC
          HDR("Subnet", "b") "spec: {cidr: 10.2.0.0/24, space: s, interfaces: [br-b]}\n" DOC
          CONS_VM("db1", "{space: s}") DOC CONS_VM("db2", "{space: s}"),
          .links = { { "br-a", "bridge" }, { "br-b", "bridge" } },
          .nics = { { "db1", "pxe", "bridge", "br-b" } },
          .att = { { "db1", "pxe", "bridge", "br-b", .rule = "constraints", .by_d = true, .kept = true, .subnet = "b",
                     .reason = "stays on br-b (Subnet b), where it is",
                     .passed = { "br-a (Subnet a): (d) ranks first, but the interface stays where it is" } },
                   { "db2", "pxe", "bridge", "br-a", .rule = "constraints", .by_d = true, .subnet = "a",
                     .reason = "rule (d): the most free addresses (510) among 2 candidates",
                     .passed = { "br-b (Subnet b): (d) ranks after br-a: 254 free addresses" } } } },
};

static void test_kept(void **state) {
        (void) state;
        ROWS(KEPT);
}

/* The Attachments block names only the interfaces whose place is new or changes, the rest
 * with -v; a shared list of alternatives is then given by the first interface shown. */
static void test_placed_quiet(void **state) {
        (void) state;
        fx *f = fx_run(&KEPT[0]);
        assert_int_equal(f->r.n, 3);
        assert_true(f->r.v[0].placed);         /* web1 stays on br-b, where it is */
        assert_true(f->r.v[1].placed);         /* web2 is on br-a, where rule (d) puts it */
        assert_false(f->r.v[2].placed);        /* web3's default is new */
        char *buf = NULL;
        size_t len = 0;
        FILE *out = open_memstream(&buf, &len);
        assert_non_null(out);
        pf_attach_print_text(&f->r, out, false);
        fclose(out);
        assert_null(strstr(buf, "vm web1 "));
        assert_null(strstr(buf, "vm web2 "));
        /* web3 shares the pod decision's list, and is the first shown: it lists it */
        assert_null(strstr(buf, "passed over: as for"));
        assert_non_null(strstr(buf, "  vm web3 interface default: bridge br-a"));
        assert_non_null(strstr(buf, "  (2 more already in place; -v lists them)\n"));
        free(buf);
        out = open_memstream(&buf, &len);
        pf_attach_print_text(&f->r, out, true);
        fclose(out);
        assert_non_null(strstr(buf, "  vm web1 interface default: bridge br-b"));
        assert_null(strstr(buf, "more already in place"));
        free(buf);
        fx_free(f);
}

/* ---- attachPolicy: legacy (MAAS 2.4) ---- */

#define LEGACY HDR("Host", "kvm01") "spec: {attachPolicy: legacy}\n" DOC

static const row LEGACY_ROWS[] = {
        { "legacy: maas, even with DHCP", LEGACY POD_VM("web1"),
          .nets = { LIVE_DEFAULT, LIVE_MAAS_DHCP },
          .att = { { "web1", "default", "network", "maas", .rule = "legacy",
                     .reason = "libvirt network 'maas' exists (on the host); attachPolicy: legacy checks nothing more" } } },
        { "legacy: default, even with DHCP, when maas is missing",
          LEGACY HDR("Subnet", "pxe") "spec: {cidr: 10.20.0.0/24, dhcp: managed, interfaces: [br-pxe]}\n" DOC POD_VM("web1"),
          .nets = { LIVE_DEFAULT_DHCP },
          .links = { { "br-pxe", "bridge" } },
          .att = { { "web1", "default", "network", "default", .rule = "legacy", .passed = { "libvirt network 'maas': (legacy) no such libvirt network" } } } },
        { "legacy: an inactive maas is passed over", LEGACY POD_VM("web1"),
          .nets = { { "maas", .active = false, .managed = true }, LIVE_DEFAULT_DHCP },
          .att = { { "web1", "default", "network", "default", .rule = "legacy",
                     .passed = { "libvirt network 'maas': (legacy) inactive on the host" } } } },
        { "legacy: a declared maas",
          LEGACY HDR("Network", "maas")
          "spec: {forward: nat, ips: [{address: 172.16.99.1, prefix: 24, dhcp: {ranges: [{start: 172.16.99.100, end: 172.16.99.200}]}}]}\n"
          DOC POD_VM("web1"),
          .att = { { "web1", "default", "network", "maas", .rule = "legacy", .reason = "(declared)" } } },
        { "prune: a maas network podform created and no longer declares is about to go: no target",
          LEGACY POD_VM("web1"),
          .nets = { { "maas", .active = true, .managed = true, .owned = true }, LIVE_DEFAULT_DHCP },
          .prune = true,
          .att = { { "web1", "default", "network", "default", .rule = "legacy",
                     .passed = { "libvirt network 'maas': (legacy) podform created it and the configuration no longer "
                                 "declares it: this run prunes it" } } } },
        { "without prune it stays, and is the target",
          LEGACY POD_VM("web1"),
          .nets = { { "maas", .active = true, .managed = true, .owned = true }, LIVE_DEFAULT_DHCP },
          .att = { { "web1", "default", "network", "maas", .rule = "legacy" } } },
        { "legacy: neither is an error, whatever the Subnets",
          LEGACY HDR("Subnet", "pxe") "spec: {cidr: 10.20.0.0/24, dhcp: managed, interfaces: [br-pxe]}\n" DOC POD_VM("web1"),
          .links = { { "br-pxe", "bridge" } },
          .err = { { "pod: {}", .msg = { "no target for the pod network of interface 'default' (see podform.yaml(5), RESOLUTION, The pod network): attachPolicy: "
                                         "legacy (MAAS 2.4) attaches only to a libvirt network named maas or default",
                                         "\n  - libvirt network 'maas': (legacy) no such libvirt network",
                                         "\n  - libvirt network 'default': (legacy) no such libvirt network",
                                         "\n  declare a Network named maas or default (active), or use attachPolicy: auto" } } } },
};

static void test_legacy(void **state) {
        (void) state;
        ROWS(LEGACY_ROWS);
}

/* ---- nothing qualifies; what is not an attachment ---- */

static const row NOTHING[] = {
        { "the error lists every candidate with its rule and reason",
          HDR("Subnet", "ext") "spec: {cidr: 10.50.0.0/24, dhcp: external, interfaces: [br-ext]}\n" DOC
          HDR("Subnet", "pxe") "spec: {cidr: 10.20.0.0/24, dhcp: managed, interfaces: [ghost, eno2, mvt0]}\n" DOC
          POD_VM("web1"),
          .nets = { LIVE_MAAS_DHCP, { "default", .active = true, .bridge = "br-ext" } },
          .links = { { "br-ext", "bridge" }, { "eno2", "device", "br-ext" }, { "mvt0", "macvtap" } },
          .err = { { "pod: {}", .msg = { "no target for the pod network of interface 'default' (see podform.yaml(5), RESOLUTION, The pod network): no libvirt network "
                                         "maas or default qualifies (a, b), and no host bridge or NIC is on a DHCP-enabled VLAN (c):",
                                         "\n  - " MAAS_DHCP,
                                         "\n  - libvirt network 'default': (b) it forwards to bridge br-ext, which no DHCP-enabled Subnet lists",
                                         "\n  - br-ext (Subnet ext): (c) its VLAN is not DHCP-enabled (dhcp: external",
                                         "\n  - ghost (Subnet pxe): (c) no such link on the host",
                                         "\n  - eno2 (Subnet pxe): (c2) it is a port of bridge br-ext",
                                         "\n  - mvt0 (Subnet pxe): (c2) it is a macvtap" } } } },
        { "no Subnet at all", POD_VM("web1"),
          .err = { { "pod: {}", .msg = { "no libvirt network maas or default qualifies", "\n  - " NO_MAAS, "\n  - " NO_DEFAULT,
                                         "declare a Subnet with dhcp: managed or relay" } } } },
        { "the implicit interface: at the VM's name, or at autoattachPodInterface",
          HDR("VirtualMachine", "imp") "spec: {running: false}\n" DOC
          HDR("VirtualMachine", "imp2") "spec:\n  domain: {devices: {autoattachPodInterface: true}}\n",
          .err = { { "imp}", .msg = { "no target for the pod network of interface 'default'", NO_MAAS } },
                   { "true}}", .msg = { "no target for the pod network of interface 'default': see the error at inline.yaml:" },
                     .ref = "imp}" } } },
        { "slirp and masquerade are placed by their binding: listed, no pod decision, no error",
          HDR("VirtualMachine", "s")
          "spec:\n  domain: {devices: {interfaces: [{name: default, slirp: {}}]}}\n  networks: [{name: default, pod: {}}]\n" DOC
          HDR("VirtualMachine", "p")
          "spec:\n  domain: {devices: {interfaces: [{name: red, masquerade: {}}]}}\n"
          "  networks: [{name: red, multus: {networkName: x, default: true}}]\n" DOC
          HDR("VirtualMachine", "n") "spec:\n  domain: {devices: {interfaces: [{name: lab, bridge: {}}]}}\n"
          "  networks: [{name: lab, network: maas}]\n",
          .att = { { "s", "default", "user", "slirp", .rule = "binding", .reason = "the slirp binding: QEMU's user networking" },
                   { "p", "red", "user", "passt", .rule = "binding", .reason = "the masquerade binding" } } },
        { "slirp next to a bridge pod interface: only the bridge one",
          HDR("VirtualMachine", "s")
          "spec:\n  domain: {devices: {interfaces: [{name: default, slirp: {}}]}}\n  networks: [{name: default, pod: {}}]\n" DOC
          POD_VM("web1"),
          .nets = { LIVE_MAAS },
          .att = { { "s", "default", "user", "slirp", .rule = "binding" },
                   { "web1", "default", "network", "maas", .rule = "a" } } },
};

static void test_nothing_qualifies(void **state) {
        (void) state;
        ROWS(NOTHING);
}

/* Only the first pod interface carries the long error; the others point to it. */
static void test_pod_error_once(void **state) {
        (void) state;
        static const row t = {
                "second pod interface", POD_VM("web1") DOC POD_VM("web2") DOC
                HDR("VirtualMachine", "web3") "spec: {running: false}\n",
                .err = { { "pod: {}", .msg = { "no target for the pod network of interface 'default' (see podform.yaml(5), RESOLUTION, The pod network): no libvirt",
                                               "declare a Subnet" } },
                         { "pod: {}", 1, .msg = { "no target for the pod network of interface 'default': see the "
                                                  "error at inline.yaml:" }, .ref = "pod: {}" },
                         { "web3}", .msg = { "see the error at inline.yaml:" }, .ref = "pod: {}" } },
        };
        check_row(&t);
        /* the short ones are short: no candidate list */
        fx *f = fx_run(&t);
        assert_int_equal(f->d.n_errors, 3);
        size_t long_ones = 0;
        for (size_t i = 0; i < f->d.n; i++)
                long_ones += strstr(f->d.v[i].msg, NO_MAAS) != NULL;
        assert_int_equal(long_ones, 1);
        fx_free(f);
}

/* ---- 3.2 constraints ---- */

#define SUBNETS                                                                               \
        HDR("Subnet", "pxe")                                                                  \
        "spec: {cidr: 10.20.0.0/24, vlan: 0, fabric: fabric-0, space: provisioning, dhcp: managed, gateway: 10.20.0.1,\n" \
        "       reserved: [\"10.20.0.2-10.20.0.20\", 10.20.0.254], interfaces: [br-pxe]}\n" DOC \
        HDR("Subnet", "storage")                                                              \
        "spec: {cidr: 10.30.0.0/24, vlan: 30, fabric: fabric-1, space: storage, interfaces: [eno2]}\n" DOC \
        HDR("Subnet", "lab")                                                                  \
        "spec: {cidr: 10.40.0.0/24, vlan: 40, fabric: fabric-0, space: provisioning, dhcp: relay, interfaces: [br-lab, eno3]}\n" DOC
#define SUBNET_LINKS { "br-pxe", "bridge" }, { "br-lab", "bridge" }, { "eno2", "device" }, { "eno3", "device" }

static const row CONSTRAINTS[] = {
        { "subnet: a NIC only, so a macvtap in the Host's mode", SUBNETS CONS_VM("db", "{subnet: storage}"),
          .links = { SUBNET_LINKS },
          .att = { { "db", "pxe", "direct", "eno2", "bridge", .rule = "constraints", .subnet = "storage",
                     .reason = "a macvtap (mode bridge) on eno2 of matching Subnet storage (no matching bridge)" } } },
        { "space: two Subnets, rule (d) among their bridges, a bridge before a macvtap",
          SUBNETS CONS_VM("db", "{space: provisioning}"),
          .links = { SUBNET_LINKS },
          .att = { { "db", "pxe", "bridge", "br-lab", .rule = "constraints", .by_d = true, .subnet = "lab",
                     .reason = "bridge br-lab of matching Subnet lab (a bridge before a macvtap); rule (d): the most free "
                               "addresses (254) among 2 candidates",
                     .passed = { "br-pxe (Subnet pxe): (d) ranks after", "eno3 (Subnet lab): a macvtap comes after a bridge" } } } },
        { "space: a tie by Subnet name",
          HDR("Subnet", "t2") "spec: {cidr: 10.71.0.0/24, space: tie, interfaces: [br-x]}\n" DOC
          HDR("Subnet", "t1") "spec: {cidr: 10.72.0.0/24, space: tie, interfaces: [br-y]}\n" DOC
          CONS_VM("db", "{space: tie}"),
          .links = { { "br-x", "bridge" }, { "br-y", "bridge" } },
          .att = { { "db", "pxe", "bridge", "br-y", .rule = "constraints", .by_d = true, .subnet = "t1",
                     .reason = "rule (d): as many free addresses as the next, and first by name (254) among 2 candidates",
                     .passed = { "br-x (Subnet t2): (d) ranks after br-y: 254 free addresses, as many; then by name" } } } },
        { "fabric", SUBNETS CONS_VM("db", "{fabric: fabric-1}"),
          .links = { SUBNET_LINKS },
          .att = { { "db", "pxe", "direct", "eno2", "bridge", .rule = "constraints", .subnet = "storage" } } },
        { "vlan", SUBNETS CONS_VM("db", "{vlan: 40}"),
          .links = { SUBNET_LINKS },
          .att = { { "db", "pxe", "bridge", "br-lab", .rule = "constraints", .subnet = "lab",
                     .passed = { "eno3 (Subnet lab): a macvtap comes after a bridge" } } } },
        { "vlan 0 and fabric together", SUBNETS CONS_VM("db", "{vlan: 0, fabric: fabric-0}"),
          .links = { SUBNET_LINKS },
          .att = { { "db", "pxe", "bridge", "br-pxe", .rule = "constraints", .subnet = "pxe" } } },
        { "ip: its Subnet, and the address recorded", SUBNETS CONS_VM("db", "{ip: 10.40.0.77}"),
          .links = { SUBNET_LINKS },
          .att = { { "db", "pxe", "bridge", "br-lab", .rule = "constraints", .subnet = "lab", .ip = "10.40.0.77",
                     .passed = { "eno3 (Subnet lab): a macvtap comes after a bridge" } } } },
        { "space and ip: the Subnet holding the address",
          SUBNETS CONS_VM("db", "{space: provisioning, ip: 10.20.0.50}"),
          .links = { SUBNET_LINKS },
          .att = { { "db", "pxe", "bridge", "br-pxe", .rule = "constraints", .subnet = "pxe", .ip = "10.20.0.50" } } },
        { "an IPv6 address", SUBNETS HDR("Subnet", "v6") "spec: {cidr: \"fd00:20::/64\", interfaces: [br-pxe]}\n" DOC
          CONS_VM("db", "{ip: \"fd00:20::50\"}"),
          .links = { SUBNET_LINKS },
          .att = { { "db", "pxe", "bridge", "br-pxe", .rule = "constraints", .subnet = "v6", .ip = "fd00:20::50" } } },
        { "the key that empties the set is named, with the Subnets left",
          SUBNETS CONS_VM("a", "{space: storage, vlan: 40}") DOC CONS_VM("b", "{space: storage, ip: 10.20.0.50}") DOC
          CONS_VM("c", "{subnet: lab, fabric: fabric-1}") DOC CONS_VM("d", "{fabric: fabric-0, vlan: 30}"),
          .links = { SUBNET_LINKS },
          .err = { { "40}", .msg = { "constraint vlan: 40 matches none of the Subnets the other constraints leave: "
                                     "storage (10.30.0.0/24, vlan 30, space storage, fabric fabric-1)" }, .config = true },
                   { "10.20.0.50}", .msg = { "constraint ip: 10.20.0.50 matches none of the Subnets the other constraints "
                                             "leave: storage (10.30.0.0/24" }, .config = true },
                   { "fabric-1}", .msg = { "constraint fabric: fabric-1 matches none of the Subnets the other constraints "
                                           "leave: lab (10.40.0.0/24, vlan 40, space provisioning, fabric fabric-0)" }, .config = true },
                   { "30}", .msg = { "constraint vlan: 30 matches none of the Subnets the other constraints leave: "
                                     "pxe (10.20.0.0/24, vlan 0, space provisioning, fabric fabric-0); lab (10.40.0.0/24" }, .config = true } } },
        { "an ip in no Subnet", SUBNETS CONS_VM("db", "{ip: 192.168.1.5}"),
          .links = { SUBNET_LINKS },
          .err = { { "192.168.1.5}", .msg = { "constraint ip: 192.168.1.5 lies in no Subnet; declare one that contains it, or "
                                              "pick an address in one of: pxe (10.20.0.0/24", "; storage (10.30.0.0/24",
                                              "; lab (10.40.0.0/24" }, .config = true } } },
        { "type: bridge with a mode conflicts", SUBNETS CONS_VM("db", "{space: provisioning, type: bridge, mode: vepa}"),
          .links = { SUBNET_LINKS },
          .err = { { "vepa}", .msg = { "constraints mode and type: bridge conflict" }, .config = true } } },
        { "type: bridge conflicts with the macvtap binding",
          SUBNETS HDR("VirtualMachine", "db")
          "spec:\n  domain: {devices: {interfaces: [{name: pxe, macvtap: {}}]}}\n"
          "  networks: [{name: pxe, constraints: {space: provisioning, type: bridge}}]\n",
          .links = { SUBNET_LINKS },
          .err = { { "bridge}}]", .msg = { "constraint type: bridge conflicts with interface 'pxe', which uses the macvtap binding" }, .config = true } } },
        { "a constraint mode conflicts with the interface's macvtap mode",
          SUBNETS HDR("VirtualMachine", "db")
          "spec:\n  domain: {devices: {interfaces: [{name: pxe, macvtap: {mode: private}}]}}\n"
          "  networks: [{name: pxe, constraints: {subnet: storage, mode: vepa}}]\n",
          .links = { SUBNET_LINKS },
          .err = { { "vepa}", .msg = { "constraint mode: vepa conflicts with mode private of interface 'pxe' (line" }, .config = true } } },
        { "the same mode twice is fine",
          SUBNETS HDR("VirtualMachine", "db")
          "spec:\n  domain: {devices: {interfaces: [{name: pxe, macvtap: {mode: private}}]}}\n"
          "  networks: [{name: pxe, constraints: {subnet: storage, mode: private}}]\n",
          .links = { SUBNET_LINKS },
          .att = { { "db", "pxe", "direct", "eno2", "private", .rule = "constraints", .subnet = "storage" } } },
        { "type: bridge where there are only NICs", SUBNETS CONS_VM("db", "{subnet: storage, type: bridge}"),
          .links = { SUBNET_LINKS },
          .err = { { "constraints: {subnet: storage, type", .msg = { "constraints of interface 'pxe' match Subnet storage, but with "
                                                                    "type: bridge no host interface of it can take it",
                                                                    "\n  - eno2 (Subnet storage): type: bridge, and it is a device" } } } },
        { "type: bridge skips the NICs next to a bridge", SUBNETS CONS_VM("db", "{subnet: lab, type: bridge}"),
          .links = { SUBNET_LINKS },
          .att = { { "db", "pxe", "bridge", "br-lab", .rule = "constraints", .subnet = "lab",
                     .passed = { "eno3 (Subnet lab): type: bridge, and it is a device" } } } },
        { "type: macvlan gives a macvtap", SUBNETS CONS_VM("db", "{subnet: storage, type: macvlan}"),
          .links = { SUBNET_LINKS },
          .att = { { "db", "pxe", "direct", "eno2", "bridge", .rule = "constraints", .subnet = "storage" } } },
        { "type: macvlan on a bridge: a macvtap on the bridge, not type='bridge'",
          SUBNETS CONS_VM("db", "{subnet: pxe, type: macvlan}") DOC
          HDR("VirtualMachine", "db2")
          "spec:\n  domain: {devices: {interfaces: [{name: pxe, macvtap: {}}]}}\n"
          "  networks: [{name: pxe, constraints: {subnet: pxe}}]\n",
          .links = { SUBNET_LINKS },
          .att = { { "db", "pxe", "direct", "br-pxe", "bridge", .rule = "constraints", .subnet = "pxe",
                     .reason = "a macvtap (mode bridge) on bridge br-pxe of matching Subnet pxe (no matching NIC)" },
                   { "db2", "pxe", "direct", "br-pxe", "bridge", .rule = "constraints", .subnet = "pxe" } } },
        { "type: macvlan: a macvtap on a NIC before one on a bridge, even with fewer free addresses",
          SUBNETS HDR("Subnet", "big") "spec: {cidr: 10.50.0.0/16, space: mix, interfaces: [br-lab]}\n" DOC
          HDR("Subnet", "small") "spec: {cidr: 10.60.0.0/28, space: mix, interfaces: [eno3]}\n" DOC
          CONS_VM("db", "{space: mix, type: macvlan}"),
          .links = { SUBNET_LINKS },
          .att = { { "db", "pxe", "direct", "eno3", "bridge", .rule = "constraints", .subnet = "small",
                     .reason = "a macvtap (mode bridge) on eno3 of matching Subnet small",
                     .passed = { "br-lab (Subnet big): a macvtap on a bridge comes after one on a NIC" } } } },
        { "mode gives a macvtap in that mode",
          HDR("Host", "kvm01") "spec: {defaultMacvlanMode: vepa}\n" DOC SUBNETS CONS_VM("db", "{subnet: storage, mode: passthru}"),
          .links = { SUBNET_LINKS },
          .att = { { "db", "pxe", "direct", "eno2", "passthru", .rule = "constraints", .subnet = "storage",
                     .reason = "a macvtap (mode passthru) on eno2" } } },
        { "the interface's macvtap mode, else the Host's",
          HDR("Host", "kvm01") "spec: {defaultMacvlanMode: vepa}\n" DOC SUBNETS
          HDR("VirtualMachine", "db")
          "spec:\n  domain: {devices: {interfaces: [{name: a, macvtap: {mode: private}}, {name: b, macvtap: {}}]}}\n"
          "  networks: [{name: a, constraints: {subnet: storage}}, {name: b, constraints: {subnet: storage}}]\n",
          .links = { SUBNET_LINKS },
          .att = { { "db", "a", "direct", "eno2", "private", .rule = "constraints", .subnet = "storage" },
                   { "db", "b", "direct", "eno2", "vepa", .rule = "constraints", .subnet = "storage" } } },
        { "no usable host interface: each one with why",
          SUBNETS HDR("Subnet", "odd") "spec: {cidr: 10.90.0.0/24, space: odd, interfaces: [ghost, mvt0, eno5, lo]}\n" DOC
          CONS_VM("db", "{space: odd}"),
          .links = { SUBNET_LINKS, { "mvt0", "macvtap" }, { "eno5", "device", "br-pxe" }, { "lo", "device" } },
          .err = { { "constraints: {space: odd}", .msg = { "constraints of interface 'pxe' match Subnet odd, but",
                                                          "no host interface of it can take it:",
                                                          "\n  - ghost (Subnet odd): no such link on the host, and none is declared",
                                                          "\n  - mvt0 (Subnet odd): it is a macvtap",
                                                          "\n  - eno5 (Subnet odd): it is a port of bridge br-pxe",
                                                          "\n  - lo (Subnet odd): it is a loopback device" } } } },
};

static void test_constraints(void **state) {
        (void) state;
        ROWS(CONSTRAINTS);
}

static const row CONSTRAINT_IP[] = {
        { "network, broadcast, gateway and reserved addresses are refused",
          SUBNETS CONS_VM("a", "{ip: 10.20.0.0}") DOC CONS_VM("b", "{ip: 10.20.0.255}") DOC CONS_VM("c", "{ip: 10.20.0.1}") DOC
          CONS_VM("d", "{ip: 10.20.0.7}") DOC CONS_VM("e", "{ip: 10.20.0.254}"),
          .links = { SUBNET_LINKS },
          .err = { { "10.20.0.0}", .msg = { "constraint ip: 10.20.0.0 is the network address of Subnet pxe (10.20.0.0/24); pick a host address" }, .config = true },
                   { "10.20.0.255}", .msg = { "constraint ip: 10.20.0.255 is the broadcast address of Subnet pxe" }, .config = true },
                   { "10.20.0.1}", .msg = { "constraint ip: 10.20.0.1 is the gateway of Subnet pxe (inline.yaml:4)" }, .config = true },
                   { "10.20.0.7}", .msg = { "constraint ip: 10.20.0.7 is reserved in Subnet pxe (inline.yaml:5)" }, .config = true },
                   { "10.20.0.254}", .msg = { "constraint ip: 10.20.0.254 is reserved in Subnet pxe" }, .config = true } } },
        { "the edges of a reserved range, and next to it",
          SUBNETS CONS_VM("a", "{ip: 10.20.0.2}") DOC CONS_VM("b", "{ip: 10.20.0.20}") DOC CONS_VM("c", "{ip: 10.20.0.21}") DOC
          CONS_VM("d", "{ip: 10.20.0.253}"),
          .links = { SUBNET_LINKS },
          .att = { { "c", "pxe", "bridge", "br-pxe", .rule = "constraints", .subnet = "pxe", .ip = "10.20.0.21" },
                   { "d", "pxe", "bridge", "br-pxe", .rule = "constraints", .subnet = "pxe", .ip = "10.20.0.253" } },
          .err = { { "10.20.0.2}", .msg = { "is reserved in Subnet pxe" }, .config = true }, { "10.20.0.20}", .msg = { "is reserved" }, .config = true } } },
        { "/31 and /32 have no network or broadcast address",
          HDR("Subnet", "p2p") "spec: {cidr: 10.9.0.0/31, interfaces: [br-pxe]}\n" DOC
          HDR("Subnet", "host") "spec: {cidr: 10.9.1.7/32, interfaces: [br-pxe]}\n" DOC
          CONS_VM("a", "{ip: 10.9.0.0}") DOC CONS_VM("b", "{ip: 10.9.0.1}") DOC CONS_VM("c", "{ip: 10.9.1.7}"),
          .links = { SUBNET_LINKS },
          .att = { { "a", "pxe", "bridge", "br-pxe", .rule = "constraints", .subnet = "p2p", .ip = "10.9.0.0" },
                   { "b", "pxe", "bridge", "br-pxe", .rule = "constraints", .subnet = "p2p", .ip = "10.9.0.1" },
                   { "c", "pxe", "bridge", "br-pxe", .rule = "constraints", .subnet = "host", .ip = "10.9.1.7" } } },
        { "overlapping Subnets: the address is checked in each that holds it",
          HDR("Subnet", "big") "spec: {cidr: 10.0.0.0/16, interfaces: [br-pxe]}\n" DOC
          HDR("Subnet", "small") "spec: {cidr: 10.0.1.0/24, gateway: 10.0.1.1, interfaces: [br-pxe]}\n" DOC
          CONS_VM("a", "{ip: 10.0.1.1}"),
          .links = { SUBNET_LINKS },
          .err = { { "10.0.1.1}", .msg = { "constraint ip: 10.0.1.1 is the gateway of Subnet small (inline.yaml:9)" }, .config = true } } },
        { "an address given twice: the second is the error, naming the first",
          SUBNETS CONS_VM("a", "{ip: 10.20.0.50}") DOC CONS_VM("b", "{space: provisioning, ip: 10.20.0.50}"),
          .links = { SUBNET_LINKS },
          .att = { { "a", "pxe", "bridge", "br-pxe", .rule = "constraints", .subnet = "pxe", .ip = "10.20.0.50" } },
          .err = { { "10.20.0.50}", 1, .msg = { "constraint ip: 10.20.0.50 is already given to VM a, network pxe (" }, .config = true,
                     .ref = "10.20.0.50}" } } },
        { "an address a live owned domain the configuration dropped records",
          SUBNETS CONS_VM("db", "{ip: 10.20.0.50}"),
          .links = { SUBNET_LINKS },
          .nics = { { "old", "pxe", "bridge", "br-pxe", "10.20.0.50" } },
          .err = { { "10.20.0.50}", .msg = { "constraint ip: 10.20.0.50 is recorded on VM old (interface pxe), which podform "
                                             "created and the configuration no longer declares" } } } },
        { "prune: an address a dropped VM records is free, the VM going with this run",
          SUBNETS CONS_VM("db", "{ip: 10.20.0.50}"),
          .links = { SUBNET_LINKS },
          .nics = { { "old", "pxe", "bridge", "br-pxe", "10.20.0.50" } },
          .prune = true,
          .att = { { "db", "pxe", "bridge", "br-pxe", .rule = "constraints", .subnet = "pxe", .ip = "10.20.0.50" } } },
        { "the host's own address on a Bridge or a Macvlan",
          SUBNETS HDR("Bridge", "br-pxe") "spec: {addresses: [10.20.0.30/24]}\n" DOC
          HDR("Macvlan", "shim") "spec: {parent: eno2, addresses: [10.30.0.2/24]}\n" DOC
          CONS_VM("a", "{ip: 10.20.0.30}") DOC CONS_VM("b", "{ip: 10.30.0.2}"),
          .links = { SUBNET_LINKS },
          .err = { { "10.20.0.30}", .msg = { "constraint ip: 10.20.0.30 is the host's own address on Bridge br-pxe (inline.yaml:" },
                     .config = true },
                   { "10.30.0.2}", .msg = { "constraint ip: 10.30.0.2 is the host's own address on Macvlan shim" }, .config = true } } },
        { "IPv6: the subnet-router anycast address is no host's",
          SUBNETS HDR("Subnet", "v6") "spec: {cidr: \"fd00:20::/64\", interfaces: [br-pxe]}\n" DOC
          CONS_VM("db", "{ip: \"fd00:20::\"}"),
          .links = { SUBNET_LINKS },
          .err = { { "\"fd00:20::\"}", .msg = { "constraint ip: fd00:20:: is the subnet-router anycast address of Subnet v6" },
                     .config = true } } },
        { "an address a declared VM records: fine, wherever",
          SUBNETS CONS_VM("db", "{ip: 10.20.0.50}") DOC CONS_VM("web", "{ip: 10.20.0.51}"),
          .links = { SUBNET_LINKS },
          .nics = { { "db", "pxe", "bridge", "br-pxe", "10.20.0.50" }, { "web", "pxe", "bridge", "br-pxe", "10.20.0.50" },
                    { "old", "pxe", "bridge", "br-pxe", "10.20.0.60" } },
          .att = { { "db", "pxe", "bridge", "br-pxe", .rule = "constraints", .subnet = "pxe", .ip = "10.20.0.50" },
                   { "web", "pxe", "bridge", "br-pxe", .rule = "constraints", .subnet = "pxe", .ip = "10.20.0.51" } } },
};

static void test_constraint_ip(void **state) {
        (void) state;
        ROWS(CONSTRAINT_IP);
}

/* ---- 3.4 DHCP boot options ---- */

#define LAN_DHCP                                                                              \
        HDR("Network", "lan")                                                                 \
        "spec:\n  forward: nat\n  ips:\n"                                                     \
        "    - {address: \"fd00:10::1\", prefix: 64, dhcp: {ranges: [{start: \"fd00:10::100\", end: \"fd00:10::1ff\"}]}}\n" \
        "    - {address: 192.168.10.1, prefix: 24, dhcp: {ranges: [{start: 192.168.10.100, end: 192.168.10.200}]}}\n" DOC
/* A VM with interface lab on network `net` (bridge binding) with boot options `opts`. */
#define BOOT_VM(name, net, opts)                                                              \
        HDR("VirtualMachine", name)                                                           \
        "spec:\n  domain: {devices: {interfaces: [{name: lab, bridge: {}" opts "}]}}\n"      \
        "  networks: [{name: lab, " net "}]\n"

static const row BOOT[] = {
        { "a fleet: VMs of two hosts ask one unscoped Network for different files; each host serves its own",
          LAN_DHCP
          "apiVersion: podform/v1\nkind: VirtualMachine\nmetadata: {name: b1, host: kvm01}\n"
          "spec:\n  domain: {devices: {interfaces: [{name: lab, bridge: {}, bootFileName: a.0}]}}\n"
          "  networks: [{name: lab, network: lan}]\n" DOC
          "apiVersion: podform/v1\nkind: VirtualMachine\nmetadata: {name: b2, host: kvm02}\n"
          "spec:\n  domain: {devices: {interfaces: [{name: lab, bridge: {}, bootFileName: b.0}]}}\n"
          "  networks: [{name: lab, network: lan}]\n",
          .bootp = { { "lan", 1, "a.0", NULL }, { "lan", 1, "b.0", NULL } } },
        { "a fleet: the Network of the VM's own host serves them, not a namesake elsewhere",
          "apiVersion: podform/v1\nkind: Network\nmetadata: {name: lan, host: kvm01}\n"
          "spec: {forward: nat, ips: [{address: 192.168.10.1, prefix: 24}]}\n" DOC
          "apiVersion: podform/v1\nkind: Network\nmetadata: {name: lan, host: kvm02}\n"
          "spec: {forward: nat, ips: [{address: 192.168.20.1, prefix: 24, dhcp: {}}]}\n" DOC
          "apiVersion: podform/v1\nkind: VirtualMachine\nmetadata: {name: a, host: kvm02}\n"
          "spec:\n  domain: {devices: {interfaces: [{name: lab, bridge: {}, bootFileName: pxelinux.0}]}}\n"
          "  networks: [{name: lab, network: lan}]\n",
          .bootp = { { "lan", 0, "pxelinux.0", NULL } } },
        { "a declared Network with IPv4 DHCP serves them",
          LAN_DHCP BOOT_VM("a", "network: lan", ", bootFileName: pxelinux.0, tftpServerName: 192.168.10.1") DOC
          BOOT_VM("b", "network: lan", ", bootFileName: pxelinux.0, tftpServerName: 192.168.10.1"),
          .bootp = { { "lan", 1, "pxelinux.0", "192.168.10.1" } } },
        { "without a server",
          LAN_DHCP BOOT_VM("a", "network: lan", ", bootFileName: grub.efi"),
          .bootp = { { "lan", 1, "grub.efi", NULL } } },
        { "multus naming a declared Network",
          LAN_DHCP BOOT_VM("a", "multus: {networkName: lan}", ", bootFileName: grub.efi"),
          .bootp = { { "lan", 1, "grub.efi", NULL } } },
        { "a Network that is only on the host",
          BOOT_VM("a", "network: livenet", ", bootFileName: pxelinux.0"),
          .nets = { { "livenet", .active = true, .managed = true, .dhcp = true } },
          .err = { { "pxelinux.0", .msg = { "bootFileName: libvirt network 'livenet' is not declared in the configuration, so "
                                            "podform does not manage its DHCP" }, .config = true } } },
        { "multus naming a host bridge",
          BOOT_VM("a", "multus: {networkName: br-x}", ", bootFileName: pxelinux.0"),
          .err = { { "pxelinux.0", .msg = { "bootFileName: network 'br-x' is a host bridge" } } } },
        { "a declared Network without DHCP",
          HDR("Network", "lan") "spec: {forward: nat, ips: [{address: 192.168.10.1, prefix: 24}]}\n" DOC
          BOOT_VM("a", "network: lan", ", tftpServerName: 192.168.10.1"),
          .err = { { "192.168.10.1}", .msg = { "tftpServerName: Network 'lan' (inline.yaml:3) serves no DHCP on IPv4" }, .config = true } } },
        { "a declared Network with DHCP on IPv6 only",
          HDR("Network", "lan")
          "spec: {forward: nat, ips: [{address: \"fd00:10::1\", prefix: 64, dhcp: {ranges: [{start: \"fd00:10::100\", end: \"fd00:10::1ff\"}]}}]}\n"
          DOC BOOT_VM("a", "network: lan", ", bootFileName: pxelinux.0"),
          .err = { { "pxelinux.0", .msg = { "serves no DHCP on IPv4" }, .config = true } } },
        { "tftpServerName without bootFileName",
          LAN_DHCP BOOT_VM("a", "network: lan", ", tftpServerName: 192.168.10.1"),
          .err = { { "192.168.10.1}", .msg = { "tftpServerName needs bootFileName" }, .config = true } } },
        { "the Network's own bootp: agreeing is fine, another file is an error",
          HDR("Network", "lan")
          "spec:\n  forward: nat\n  ips:\n    - address: 192.168.10.1\n      prefix: 24\n      dhcp:\n"
          "        ranges: [{start: 192.168.10.100, end: 192.168.10.200}]\n"
          "        bootp: {file: pxelinux.0, server: 192.168.10.1}\n" DOC
          BOOT_VM("a", "network: lan", ", bootFileName: pxelinux.0") DOC
          BOOT_VM("b", "network: lan", ", bootFileName: grub.efi") DOC
          BOOT_VM("c", "network: lan", ", bootFileName: pxelinux.0, tftpServerName: 192.168.10.9"),
          .bootp = { { "lan", 0, "pxelinux.0", "192.168.10.1" } },
          .err = { { "grub.efi", .msg = { "bootFileName: Network 'lan' already serves bootp file 'pxelinux.0' from 192.168.10.1 "
                                          "(inline.yaml:11)" }, .config = true },
                   { "pxelinux.0", 2, .msg = { "already serves bootp file 'pxelinux.0'" }, .config = true } } },
        { "two interfaces asking for different files",
          LAN_DHCP BOOT_VM("a", "network: lan", ", bootFileName: a.efi") DOC BOOT_VM("b", "network: lan", ", bootFileName: b.efi")
          DOC BOOT_VM("c", "network: lan", ", bootFileName: a.efi, tftpServerName: 192.168.10.1"),
          .bootp = { { "lan", 1, "a.efi", NULL } },
          .err = { { "b.efi", .msg = { "bootFileName: interface 'lab' asks Network 'lan' for bootp file 'b.efi', but interface "
                                       "'lab' of VM a (inline.yaml:", "asks for 'a.efi'" }, .config = true, .ref = "a.efi" },
                   { "a.efi", 1, .msg = { "asks Network 'lan' for bootp file 'a.efi' from 192.168.10.1, but interface 'lab' of "
                                          "VM a (inline.yaml:", "asks for 'a.efi'" }, .config = true, .ref = "a.efi" } } },
        { "a pod network that resolves to a bridge",
          HDR("Subnet", "pxe") "spec: {cidr: 10.20.0.0/24, dhcp: managed, interfaces: [br-pxe]}\n" DOC
          BOOT_VM("a", "pod: {}", ", bootFileName: pxelinux.0"),
          .links = { { "br-pxe", "bridge" } },
          .att = { { "a", "lab", "bridge", "br-pxe", .rule = "c1", .subnet = "pxe", .any_passed = true } },
          .err = { { "pxelinux.0", .msg = { "bootFileName: the pod network of this host is bridge br-pxe (rule c1 of podform.yaml(5), "
                                            "RESOLUTION, The pod network), where no DHCP server podform controls would "
                                            "serve it; drop bootFileName" } } } },
        { "a pod network on maas without DHCP (rule a)",
          HDR("Network", "maas") "spec: {forward: nat, ips: [{address: 172.16.99.1, prefix: 24}]}\n" DOC
          BOOT_VM("a", "pod: {}", ", bootFileName: pxelinux.0"),
          .att = { { "a", "lab", "network", "maas", .rule = "a" } },
          .err = { { "pxelinux.0", .msg = { "bootFileName: the pod network of this host is Network 'maas' (rules a, b of "
                                            "podform.yaml(5), RESOLUTION, The pod network), which serves no DHCP, and "
                                            "rule a never takes one that does" } } } },
        { "a tftpServerName that is a name, not an address",
          LAN_DHCP BOOT_VM("a", "network: lan", ", bootFileName: pxelinux.0, tftpServerName: tftp.example.com"),
          .err = { { "tftp.example.com", .msg = { "tftpServerName: libvirt's bootp takes the server's IP address, not a name" },
                     .config = true } } },
        { "two interfaces without a server agree on the Network's own",
          HDR("Network", "lan")
          "spec: {forward: nat, ips: [{address: 192.168.10.1, prefix: 24, dhcp: {bootp: {file: pxelinux.0, server: 192.168.10.1}}}]}\n"
          DOC BOOT_VM("a", "network: lan", ", bootFileName: pxelinux.0") DOC BOOT_VM("b", "network: lan", ", bootFileName: pxelinux.0"),
          .bootp = { { "lan", 0, "pxelinux.0", "192.168.10.1" } } },
        { "a legacy pod network on a declared maas with DHCP serves them",
          LEGACY HDR("Network", "maas")
          "spec: {forward: nat, ips: [{address: 172.16.99.1, prefix: 24, dhcp: {ranges: [{start: 172.16.99.100, end: 172.16.99.200}]}}]}\n"
          DOC BOOT_VM("a", "pod: {}", ", bootFileName: pxelinux.0, tftpServerName: 172.16.99.1"),
          .att = { { "a", "lab", "network", "maas", .rule = "legacy" } },
          .bootp = { { "maas", 0, "pxelinux.0", "172.16.99.1" } } },
        { "a pod network that resolves to nothing: only the pod error",
          BOOT_VM("a", "pod: {}", ", bootFileName: pxelinux.0"),
          .err = { { "pod: {}", .msg = { "no target for the pod network" } } } },
        { "slirp on the pod network",
          HDR("VirtualMachine", "a")
          "spec:\n  domain: {devices: {interfaces: [{name: default, slirp: {}, bootFileName: pxelinux.0}]}}\n"
          "  networks: [{name: default, pod: {}}]\n",
          .att = { { "a", "default", "user", "slirp", .rule = "binding" } },
          .err = { { "pxelinux.0", .msg = { "bootFileName: interface 'default' uses QEMU's user networking (slirp)" } } } },
};

static void test_boot_options(void **state) {
        (void) state;
        ROWS(BOOT);
}

/* ---- free addresses (spec section 2) ---- */

static void test_subnet_free(void **state) {
        (void) state;
        static const char text[] =
                HDR("Subnet", "plain") "spec: {cidr: 10.0.0.0/24}\n" DOC
                HDR("Subnet", "gw") "spec: {cidr: 10.0.1.0/24, gateway: 10.0.1.1}\n" DOC
                /* the gateway inside a reserved range counts once */
                HDR("Subnet", "gwres") "spec: {cidr: 10.0.2.0/24, gateway: 10.0.2.1, reserved: [\"10.0.2.1-10.0.2.20\"]}\n" DOC
                /* the network and broadcast addresses inside reserved ranges count once */
                HDR("Subnet", "edges") "spec: {cidr: 10.0.3.0/24, reserved: [\"10.0.3.0-10.0.3.4\", \"10.0.3.250-10.0.3.255\"]}\n" DOC
                /* constraint addresses, one on the gateway, one reserved: each address once */
                HDR("Subnet", "vms") "spec: {cidr: 10.0.4.0/24, gateway: 10.0.4.1, reserved: [10.0.4.11]}\n" DOC
                HDR("Subnet", "p31") "spec: {cidr: 10.0.5.0/31}\n" DOC
                HDR("Subnet", "p31gw") "spec: {cidr: 10.0.5.2/31, gateway: 10.0.5.2}\n" DOC
                HDR("Subnet", "p32") "spec: {cidr: 10.0.5.4/32}\n" DOC
                HDR("Subnet", "p32gw") "spec: {cidr: 10.0.5.5/32, gateway: 10.0.5.5}\n" DOC
                HDR("Subnet", "p30") "spec: {cidr: 10.0.5.8/30}\n" DOC
                HDR("Subnet", "v6") "spec: {cidr: \"fd00::/64\", gateway: \"fd00::1\", reserved: [\"fd00::1-fd00::ffff\"]}\n" DOC
                HDR("Subnet", "v6small") "spec: {cidr: \"fd01::/120\", gateway: \"fd01::1\", reserved: [\"fd01::10-fd01::1f\"]}\n" DOC
                HDR("Subnet", "v6half") "spec: {cidr: \"fd02::/65\", gateway: \"fd02::1\"}\n" DOC
                /* scoped to kvm01: a VM of kvm02 takes none of its addresses */
                "apiVersion: podform/v1\nkind: Subnet\nmetadata: {name: scoped, host: kvm01}\nspec: {cidr: 10.0.6.0/24}\n" DOC
                CONS_VM("a", "{ip: 10.0.4.10}") DOC CONS_VM("b", "{ip: 10.0.4.1}") DOC CONS_VM("c", "{ip: 10.0.4.11}") DOC
                CONS_VM("d", "{ip: 10.0.4.10}") DOC CONS_VM("e", "{ip: 10.0.6.10}") DOC CONS_VM("v6vm", "{ip: \"fd01::20\"}") DOC
                "apiVersion: podform/v1\nkind: VirtualMachine\nmetadata: {name: other, host: kvm02}\n"
                "spec:\n  domain: {devices: {interfaces: [{name: pxe, bridge: {}}]}}\n"
                "  networks: [{name: pxe, constraints: {ip: 10.0.6.11}}]\n";
        static const struct { const char *subnet; uint64_t free; } want[] = {
                { "plain", 254 }, { "gw", 253 }, { "gwres", 234 }, { "edges", 245 },
                { "vms", 251 },         /* 254 - gateway .1 (also b's) - reserved .11 (also c's) - .10 (a and d) */
                { "p31", 2 }, { "p31gw", 1 }, { "p32", 1 }, { "p32gw", 0 }, { "p30", 2 },
                { "v6", UINT64_MAX }, { "v6small", 256 - 1 - 1 - 16 - 1 }, { "v6half", (UINT64_C(1) << 63) - 2 },
                { "scoped", 253 },      /* e's address; not other's, of kvm02 */
        };
        /* not validated: some of these addresses are refused (test_constraint_ip), but they
         * are counted once all the same */
        pf_config c;
        load_text(&c, "subnet free", text, false);
        assert_int_equal(c.model.subnets.n, sizeof(want) / sizeof(want[0]));
        for (size_t i = 0; i < c.model.subnets.n; i++) {
                const pf_subnet *s = &c.model.subnets.v[i];
                assert_string_equal(s->meta.name, want[i].subnet);
                uint64_t got = pf_subnet_free(&c.model, s);
                if (got != want[i].free)
                        FAIL("Subnet %s: %llu free addresses, want %llu", s->meta.name, (unsigned long long) got,
                             (unsigned long long) want[i].free);
        }
        pf_config_free(&c);
}

/* ---- names and output ---- */

static void test_names_and_output(void **state) {
        (void) state;
        assert_string_equal(pf_attach_rule_name(PF_RULE_A), "a");
        assert_string_equal(pf_attach_rule_name(PF_RULE_C1), "c1");
        assert_string_equal(pf_attach_rule_name(PF_RULE_C2), "c2");
        assert_string_equal(pf_attach_rule_name(PF_RULE_LEGACY), "legacy");
        assert_string_equal(pf_attach_rule_name(PF_RULE_CONSTRAINTS), "constraints");
        assert_string_equal(pf_attach_rule_name(_PF_RULE_MAX), "?");

        static const row t = {
                "output",
                HDR("Host", "kvm01") "spec: {defaultMacvlanMode: passthru}\n" DOC
                HDR("Subnet", "pxe") "spec: {cidr: 10.20.0.0/24, dhcp: managed, interfaces: [eno1, \"eno\\\"2\"]}\n" DOC
                HDR("Subnet", "st") "spec: {cidr: 10.30.0.0/24, interfaces: [br-st]}\n" DOC
                POD_VM("web1") DOC POD_VM("web2") DOC CONS_VM("db", "{subnet: st, ip: 10.30.0.9}"),
                .links = { { "eno1", "device" }, { "eno\"2", "device" }, { "br-st", "bridge" } },
        };
        fx *f = fx_run(&t);
        assert_int_equal(f->d.n_errors, 0);
        assert_int_equal(f->r.n, 3);
        pf_arena a = { 0 };
        assert_string_equal(pf_attachment_target(&a, pf_attach_find(&f->r, &f->c.model.vms.v[0],
                                                                     &f->c.model.vms.v[0].interfaces.v[0])),
                            "direct eno\"2 mode=passthru");
        assert_string_equal(pf_attachment_target(&a, &f->r.v[2]), "bridge br-st");
        pf_attachment net = { .target = PF_TARGET_NETWORK, .source = "maas" };
        assert_string_equal(pf_attachment_target(&a, &net), "network maas");
        pf_arena_free(&a);
        /* pf_attach_find is by identity: a copy of the interface is not it */
        pf_iface other = f->c.model.vms.v[0].interfaces.v[0];
        assert_null(pf_attach_find(&f->r, &f->c.model.vms.v[0], &other));
        assert_null(pf_attach_find(NULL, &f->c.model.vms.v[0], &f->c.model.vms.v[0].interfaces.v[0]));

        char *buf = NULL;
        size_t len = 0;
        FILE *out = open_memstream(&buf, &len);
        assert_non_null(out);
        pf_attach_print_text(&f->r, out, false);
        fclose(out);
        assert_non_null(strstr(buf, "Attachments (see podform.yaml(5), RESOLUTION):\n  vm web1 interface default: direct eno\"2 mode=passthru"
                                    "  [pod network, rule c2 by d]\n"));
        assert_non_null(strstr(buf, "      passed over: eno1 (Subnet pxe): (d) ranks after eno\"2"));
        /* the second pod interface shares the first one's alternatives */
        assert_non_null(strstr(buf, "  vm web2 interface default: direct eno\"2 mode=passthru"));
        assert_non_null(strstr(buf, "      passed over: as for vm web1 interface default\n"));
        assert_non_null(strstr(buf, "  vm db interface pxe: bridge br-st, ip 10.30.0.9  [constraints]\n"));
        free(buf);

        out = open_memstream(&buf, &len);
        assert_non_null(out);
        pf_attach_print_json(&f->r, out);
        fclose(out);
        assert_int_equal(buf[0], '[');
        assert_ptr_equal(strstr(buf, "{\"vm\":\"web1\",\"interface\":\"default\",\"network\":\"default\",\"rule\":\"c2\","
                                     "\"by_d\":true,\"kept\":false,\"target\":{\"type\":\"direct\",\"source\":\"eno\\\"2\","
                                     "\"mode\":\"passthru\"},\"subnet\":\"pxe\",\"free_addresses\":254,\"ip\":null,"), buf + 1);
        assert_non_null(strstr(buf, "{\"vm\":\"db\",\"interface\":\"pxe\",\"network\":\"pxe\",\"rule\":\"constraints\","
                                    "\"by_d\":false,\"kept\":false,\"target\":{\"type\":\"bridge\",\"source\":\"br-st\"},"
                                    "\"subnet\":\"st\",\"free_addresses\":253,\"ip\":\"10.30.0.9\",\"reason\":"));
        assert_int_equal(buf[len - 1], ']');
        free(buf);
        out = open_memstream(&buf, &len);
        pf_attach_print_json(NULL, out);
        pf_attach_print_text(NULL, out, false);
        fclose(out);
        assert_string_equal(buf, "[]");
        free(buf);
        fx_free(f);

        /* no facts at all: as a host with nothing */
        pf_config c;
        load_text(&c, "no facts", POD_VM("web1"), true);
        assert_int_equal(c.diags.n_errors, 0);
        pf_host h;
        pf_host_defaults(&h);
        pf_attach_result r = { 0 };
        pf_diags d = { 0 };
        pf_attach_resolve(&c.model, &h, NULL, &r, &d);
        assert_int_equal(d.n_errors, 1);
        assert_int_equal(r.n, 0);
        pf_attach_free(&r);
        assert_null(r.v);
        pf_diag_free(&d);
        pf_config_free(&c);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_rule_a), cmocka_unit_test(test_rule_b), cmocka_unit_test(test_rule_c),
                cmocka_unit_test(test_rule_d), cmocka_unit_test(test_kept), cmocka_unit_test(test_placed_quiet), cmocka_unit_test(test_legacy),
                cmocka_unit_test(test_nothing_qualifies), cmocka_unit_test(test_pod_error_once),
                cmocka_unit_test(test_constraints), cmocka_unit_test(test_constraint_ip),
                cmocka_unit_test(test_boot_options), cmocka_unit_test(test_subnet_free),
                cmocka_unit_test(test_names_and_output),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
