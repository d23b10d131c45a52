/* pod.c: the pod network (podform.yaml(5), The pod network; MAAS bug 1789521).
 *
 * The pod network is decided once per host: every pod interface with the bridge binding goes
 * where rules (a) to (d) point, except an interface a live domain already has on another
 * candidate of the same rank, which stays there. Rule (d) ranks by free addresses, and those
 * change whenever a VM is given an address: without this, giving one VM an address could move
 * every running VM to another bridge. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "model/names.h"
#include "resolve/attach_internal.h"
#include "resolve/masq.h"

static const char *dhcp_name(const pf_subnet *s) { return pf_enum_name(&pf_subnet_dhcp_enum, s->dhcp); }

/* Rule (b) for a network with its libvirt DHCP off that libvirt does not manage: NULL when its
 * bridge or a forward device is on a DHCP-enabled VLAN (*why says how), else why not. */
static const char *judge_forward(attach_ctx *c, const net_view *v, const char *where, const char **why) {
        pf_arena *a = &c->r->arena;
        if (v->bridge) {
                const pf_subnet *s = ipam_dhcp_subnet_of(c, v->bridge);
                if (s) {
                        *why = pf_arena_printf(a, "libvirt network '%s' (%s): it exists and its libvirt DHCP is off (a), and "
                                               "its bridge %s is on the VLAN of Subnet %s (dhcp: %s) (b)", v->name, where, v->bridge,
                                               s->meta.name, dhcp_name(s));
                        return NULL;
                }
                return pf_arena_printf(a, "(b) it forwards to bridge %s, which no DHCP-enabled Subnet lists", v->bridge);
        }
        for (size_t i = 0; i < v->n_devs; i++) {
                const pf_subnet *s = ipam_dhcp_subnet_of(c, v->devs[i]);
                if (s) {
                        *why = pf_arena_printf(a, "libvirt network '%s' (%s): it exists and its libvirt DHCP is off (a), and "
                                               "its device %s is on the VLAN of Subnet %s (dhcp: %s) (b)", v->name, where, v->devs[i],
                                               s->meta.name, dhcp_name(s));
                        return NULL;
                }
        }
        return v->n_devs ? "(b) none of its forward devices is listed by a DHCP-enabled Subnet"
                         : "(b) it is on no bridge podform can match to a Subnet";
}

/* Rules (a) and (b) for one of maas and default: NULL when it qualifies (*why says how), else
 * why not. */
static const char *judge_named(attach_ctx *c, const net_view *v, bool legacy, const char **why) {
        pf_arena *a = &c->r->arena;
        const char *where = v->declared ? "declared" : "on the host";
        if (v->pruned)
                return legacy ? "(legacy) podform created it and the configuration no longer declares it: this run prunes it"
                              : "(a) podform created it and the configuration no longer declares it: this run prunes it";
        if (!v->exists)
                return legacy ? "(legacy) no such libvirt network on the host, and none is declared"
                              : "(a) no such libvirt network on the host, and none is declared";
        if (!v->active)
                return pf_arena_printf(a, "(%s) %s", legacy ? "legacy" : "a", v->declared
                                       ? "declared with active: false; a VM on it could not start"
                                       : "inactive on the host; a VM on it could not start (start it, or declare it)");
        if (legacy) {
                *why = pf_arena_printf(a, "libvirt network '%s' exists (%s); attachPolicy: legacy checks nothing more (MAAS 2.4)",
                                       v->name, where);
                return NULL;
        }
        if (v->dhcp)
                return "(a) its libvirt DHCP is on (an <ip> with <dhcp>), which breaks PXE from MAAS";
        if (v->managed) {
                *why = pf_arena_printf(a, "libvirt network '%s' (%s): it exists and its libvirt DHCP is off (a), and "
                                       "libvirt manages it (b)",
                                       v->name, where);
                return NULL;
        }
        return judge_forward(c, v, where, why);
}

/* Rules (a) and (b), or legacy: the libvirt network maas, else default. false when neither
 * qualifies (p->passed_over says why). */
static bool decide_named(attach_ctx *c, pod_decision *p, bool legacy) {
        static const char *const named[] = { "maas", "default" };
        for (size_t k = 0; k < 2; k++) {
                net_view v = attach_view_network(c, named[k]);
                const char *why = NULL, *no = judge_named(c, &v, legacy, &why);
                if (!no) {
                        p->ok = true;
                        p->rule = legacy ? PF_RULE_LEGACY : PF_RULE_A;
                        p->target = PF_TARGET_NETWORK;
                        p->source = named[k];
                        p->reason = why;
                        return true;
                }
                strs_add(&c->r->arena, &p->passed_over, "libvirt network '%s': %s", named[k], no);
        }
        return false;
}

/* Rule (c) for host link ifname listed by Subnet s: false when it does not qualify
 * (p->passed_over says why), else *x is its candidate. */
static bool pod_candidate(attach_ctx *c, pod_decision *p, const pf_subnet *s, const char *ifname, cand *x) {
        pf_arena *a = &c->r->arena;
        const char *kind = attach_link_kind(c, ifname);
        if (!ipam_dhcp_enabled(s)) {
                strs_add(a, &p->passed_over, "%s (Subnet %s): (c) its VLAN is not DHCP-enabled (dhcp: %s; managed "
                         "or relay is)", ifname, s->meta.name, dhcp_name(s));
                return false;
        }
        if (!kind) {
                strs_add(a, &p->passed_over, "%s (Subnet %s): (c) no such link on the host, and none is declared",
                         ifname, s->meta.name);
                return false;
        }
        *x = (cand) { ifname, s, ipam_free(c, s), 0 };
        if (!x->free) {
                strs_add(a, &p->passed_over, "%s (Subnet %s): (d) its Subnet has no free address", ifname, s->meta.name);
                return false;
        }
        if (strcmp(kind, "bridge")) {
                const char *port_of = attach_link_port_of(c, ifname);
                if (!rank_macvtap_parent(ifname, kind)) {
                        strs_add(a, &p->passed_over, "%s (Subnet %s): (c2) it is a %s; a VM's macvtap goes on a NIC",
                                 ifname, s->meta.name, !strcmp(ifname, "lo") ? "loopback device" : kind);
                        return false;
                }
                if (port_of) {
                        bool listed = false;
                        EACH(j, s->interfaces) listed |= j->name && !strcmp(j->name, port_of);
                        strs_add(a, &p->passed_over, "%s (Subnet %s): (c2) it is a port of bridge %s, and the kernel "
                                 "puts no macvtap on a bridge port%s%s%s", ifname, s->meta.name, port_of,
                                 listed ? "" : " (list ", listed ? "" : port_of, listed ? "" : " in the Subnet instead)");
                        return false;
                }
                x->rank = 1;
        }
        return true;
}

/* Rule (d) among the candidates of rule (c) (at least one): the first of the best rank. */
static void pick_ranked(attach_ctx *c, pod_decision *p) {
        pf_arena *a = &c->r->arena;
        qsort(p->ranked.v, p->ranked.n, sizeof(*p->ranked.v), rank_cmp);
        const cand *w = &p->ranked.v[0];
        p->ok = true;
        p->rule = w->rank == 0 ? PF_RULE_C1 : PF_RULE_C2;
        p->target = w->rank == 0 ? PF_TARGET_BRIDGE : PF_TARGET_DIRECT;
        p->source = w->ifname;
        p->subnet = w->s;
        p->free = w->free;
        size_t same_rank = rank_same(&p->ranked);
        p->by_d = same_rank > 1;
        const char *fr = rank_free_text(a, w->free);
        const char *what = w->rank == 0
                ? pf_arena_printf(a, "host bridge %s is on the VLAN of Subnet %s (dhcp: %s, %s free addresses) (c1)",
                                  w->ifname, w->s->meta.name, dhcp_name(w->s), fr)
                : pf_arena_printf(a, "a macvtap (mode %s, the Host's default) on host NIC %s, on the VLAN of Subnet %s "
                                  "(dhcp: %s, %s free addresses) (c2)", pf_enum_name(&pf_macvlan_mode_enum,
                                  c->host->default_macvlan_mode), w->ifname, w->s->meta.name, dhcp_name(w->s), fr);
        if (p->by_d)
                what = pf_arena_printf(a, "%s; rule (d): %s among %zu candidates of this rank", what,
                                       rank_d_phrase(w, &p->ranked.v[1]), same_rank);
        p->reason = what;
        p->n_excluded = p->passed_over.n;
        rank_explain(a, &p->passed_over, &p->ranked, w, "(c) ");
}

static void decide_pod(attach_ctx *c, pod_decision *p) {
        p->done = true;
        bool legacy = c->host->attach_policy == PF_ATTACH_LEGACY;
        if (decide_named(c, p, legacy))
                return;
        if (legacy) {
                p->error = "attachPolicy: legacy (MAAS 2.4) attaches only to a libvirt network named maas or default";
                return;
        }
        /* (c) and (d) */
        EACH(s, c->m->subnets) EACH(i, s->interfaces) {
                cand x;
                if (i->name && pod_candidate(c, p, s, i->name, &x))
                        rank_add(&p->ranked, x);
        }
        if (!p->ranked.n) {
                p->error = "no libvirt network maas or default qualifies (a, b), and no host bridge or NIC is on a "
                           "DHCP-enabled VLAN (c)";
                return;
        }
        pick_ranked(c, p);
}

static pf_loc net_loc(const pf_vm *vm, const pf_vm_net *n) {
        return pf_loc_set(n->backend_loc) ? n->backend_loc
               : pf_loc_set(n->loc) ? n->loc
               : pf_loc_set(vm->autoattach_pod_interface_loc) ? vm->autoattach_pod_interface_loc
               : vm->meta.name_loc;
}

/* No target: the first interface gets the whole story, the others point to it. */
static void report_no_target(attach_ctx *c, pod_decision *p, const pf_vm *vm, const pf_iface *i, const pf_vm_net *n) {
        const char *name = i->name ? i->name : "?";
        pf_loc at = net_loc(vm, n);
        if (p->reported) {
                pf_error(c->d, at, "no target for the pod network of interface '%s': see the error at %s:%u:%u",
                         name, attach_src_path(p->first_error), p->first_error.line, p->first_error.col);
                return;
        }
        p->reported = true;
        p->first_error = at;
        pf_error(c->d, at, "no target for the pod network of interface '%s' (see " PF_MAN_POD_RULES "): %s:\n  - %s\n  %s", name,
                 p->error, strs_join(&c->r->arena, &p->passed_over, "\n  - "), c->host->attach_policy == PF_ATTACH_LEGACY
                 ? "declare a Network named maas or default (active), or use attachPolicy: auto"
                 : "declare a Subnet with dhcp: managed or relay that lists a host bridge or NIC, or a Network "
                   "named maas without dhcp");
}

/* x stays on k, where the live domain has it, with its own list of alternatives. */
static void keep_live(attach_ctx *c, const pod_decision *p, pf_attachment *x, const cand *k) {
        pf_arena *a = &c->r->arena;
        x->source = k->ifname;
        x->subnet = k->s;
        x->free = k->free;
        x->kept = true;
        x->reason = pf_arena_printf(a, "stays on %s (Subnet %s), where it is: that qualifies under rule (%s) "
                                    "too, and rule (d), which ranks %s first, only places new interfaces",
                                    k->ifname, k->s->meta.name, pf_attach_rule_name(p->rule), p->source);
        /* its own alternatives: the winner instead of itself */
        strs own = { 0 };
        for (size_t j = 0; j < p->n_excluded; j++)
                strs_add(a, &own, "%s", p->passed_over.v[j]);
        rank_explain(a, &own, &p->ranked, k, "(c) ");
        x->passed_over = own.v;
        x->n_passed_over = own.n;
        x->shares_passed_over = false;
}

void pod_attach(attach_ctx *c, pod_decision *p, const pf_vm *vm, const pf_iface *i, const pf_vm_net *n) {
        if (c->no_host)
                return;
        if (!p->done)
                decide_pod(c, p);
        if (!p->ok) {
                report_no_target(c, p, vm, i, n);
                return;
        }
        pf_attachment *x = attach_new(c);
        *x = (pf_attachment) { .vm = vm, .iface = i, .net = n, .target = p->target, .source = p->source,
                               .mode = c->host->default_macvlan_mode, .rule = p->rule, .by_d = p->by_d,
                               .subnet = p->subnet, .free = p->free, .reason = p->reason,
                               .passed_over = p->passed_over.v, .n_passed_over = p->passed_over.n,
                               .shares_passed_over = true };
        if (n->backend == PF_BACKEND_MULTUS && n->network_name)
                x->reason = pf_arena_printf(&c->r->arena, "%s; networkName '%s' is not used: with default: true this is "
                                            "the pod network, which these rules place", x->reason, n->network_name);
        const cand *k = p->by_d ? rank_kept(c, &p->ranked, vm, i) : NULL;
        if (k)
                keep_live(c, p, x, k);
}

/* Whatever the host has (the table of podform.yaml(5), RESOLUTION); listed so that the plan
 * accounts for every pod interface. */
void pod_attach_user(attach_ctx *c, const pf_vm *vm, const pf_iface *i, const pf_vm_net *n) {
        bool passt = i->binding == PF_BINDING_MASQUERADE;
        pf_attachment *x = attach_new(c);
        if (passt && c->f->masq_nat) {
                *x = (pf_attachment) { .vm = vm, .iface = i, .net = n, .target = PF_TARGET_NETWORK,
                                       .source = PF_MASQ_NETWORK, .rule = PF_RULE_BINDING,
                                       .reason = "the masquerade binding: this libvirt has no passt, so podform's NAT "
                                                 "network, its ports forwarded by podform's nftables table" };
                return;
        }
        *x = (pf_attachment) { .vm = vm, .iface = i, .net = n, .target = PF_TARGET_USER, .source = passt ? "passt" : "slirp",
                               .rule = PF_RULE_BINDING,
                               .reason = passt ? "the masquerade binding: QEMU's user networking through passt, not a host "
                                                 "network (rules a to d place the bridge binding)"
                                               : "the slirp binding: QEMU's user networking, not a host network (rules a to d "
                                                 "place the bridge binding)" };
}
