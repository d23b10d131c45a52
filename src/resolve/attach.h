/* attach.h: where the interfaces the configuration leaves to podform go (podform.yaml(5),
 * RESOLUTION): the pod network (MAAS bug 1789521), interface constraints with the address they
 * record, and the DHCP boot options a Network serves for its interfaces.
 *
 * Pure: the host comes in as facts (live libvirt networks, host links through two lookups,
 * what live owned domains record), the configuration as the scoped model. Every decision
 * carries its rule and, for the candidates it passed over, why, so that a plan can say why a
 * VM lands where it does and an error can say why nothing qualifies. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "model/link_view.h"
#include "model/model.h"
#include "util/arena.h"
#include "util/diag.h"

/* A libvirt network on the host, as libvirt defines it. A Network the configuration declares
 * is read from the model instead (it is what the host will have). */
typedef struct pf_net_fact {
        const char *name;
        bool owned;             /* podform created it */
        bool active;
        bool dhcp;              /* an <ip> with <dhcp>: libvirt's dnsmasq serves DHCP */
        bool managed;           /* libvirt creates its bridge: forward nat, route, open or none */
        const char *bridge;     /* the bridge its guests join (its own or a host bridge), or NULL */
        const char *const *devs;        /* forward devices (<forward><interface dev>) */
        size_t n_devs;
} pf_net_fact;

/* What a live domain podform created records of one interface, and where that interface is
 * now (from the persistent definition). */
typedef struct pf_nic_fact {
        const char *vm, *iface;
        const char *type;       /* "bridge", "direct", "network", ... */
        const char *source;     /* bridge, device or network name */
        bool has_ip;
        pf_ip ip;               /* the address its podform metadata records */
} pf_nic_fact;

typedef struct pf_attach_facts {
        const pf_net_fact *networks;
        size_t n_networks;
        const pf_nic_fact *nics;        /* owned live domains only */
        size_t n_nics;
        pf_link_view links;             /* the host's links, as declared, else as on the host */
        /* This run prunes: what podform owns and the configuration no longer declares is about
         * to go (a network it created is no target; an address its VM recorded is free). */
        bool prune;
        /* libvirt lacks passt: masquerade interfaces go on podform's NAT network (resolve/masq.h) */
        bool masq_nat;
} pf_attach_facts;

/* The rule that chose a target. */
typedef enum pf_attach_rule {
        PF_RULE_A,              /* (a)+(b): the libvirt network maas, else default */
        PF_RULE_C1,             /* (c1): a host bridge on a DHCP-enabled VLAN */
        PF_RULE_C2,             /* (c2): a macvtap on a host NIC of a DHCP-enabled VLAN */
        PF_RULE_LEGACY,         /* attachPolicy: legacy (MAAS 2.4): maas, then default */
        PF_RULE_CONSTRAINTS,    /* interface constraints */
        PF_RULE_BINDING,        /* slirp or masquerade on the pod network: QEMU's user networking */
        _PF_RULE_MAX
} pf_attach_rule;

typedef enum pf_target_kind { PF_TARGET_NETWORK, PF_TARGET_BRIDGE, PF_TARGET_DIRECT, PF_TARGET_USER } pf_target_kind;

/* One interface whose place the rules decided. */
typedef struct pf_attachment {
        const pf_vm *vm;
        const pf_iface *iface;
        const pf_vm_net *net;
        pf_target_kind target;
        const char *source;             /* network, bridge or parent device name; user: "slirp", "passt" */
        pf_macvlan_mode mode;           /* PF_TARGET_DIRECT */
        pf_attach_rule rule;
        bool by_d;                      /* rule (d) chose among several candidates of its rank */
        bool kept;                      /* stays where the live domain has it (see attach.c) */
        bool placed;                    /* the live VM's interface is already there: nothing moves */
        const pf_subnet *subnet;        /* the Subnet that qualified it (rules c, d, constraints) */
        uint64_t free;                  /* that Subnet's free addresses */
        const char *reason;             /* why this target, one line */
        const char *const *passed_over; /* the other candidates, each "what: (rule) why" */
        size_t n_passed_over;
        bool shares_passed_over;        /* the pod decision's list, the same for every such interface */
        bool has_ip;
        pf_ip ip;                       /* constraint ip: recorded in the domain's metadata */
} pf_attachment;

/* The DHCP boot options a declared Network serves, from the interfaces on it. */
typedef struct pf_bootp {
        const pf_network *network;
        const pf_vm *vm;                /* the first interface that asked for them */
        const pf_iface *iface;
        size_t ip_index;                /* the IPv4 ips[] entry with dhcp that serves them */
        const char *file, *server;      /* server may be NULL */
} pf_bootp;

typedef struct pf_attach_result {
        pf_arena arena;
        pf_attachment *v;
        size_t n;
        pf_bootp *bootps;
        size_t n_bootps;
        size_t n_errors;                /* reported by the rules: an interface without a decision */
} pf_attach_result;

/* pf_attach_resolve: decides every pod-network interface with the bridge binding and every
 * constraints interface of m (and lists the pod interfaces their binding places, so that the
 * plan accounts for every pod interface) (scoped to one host), checks constraint addresses and DHCP boot
 * options, and reports what cannot be resolved to d at the declaration. r must be zeroed;
 * free it with pf_attach_free. */
void pf_attach_resolve(const pf_model *m, const pf_host *host, const pf_attach_facts *f, pf_attach_result *r,
                       pf_diags *d);
void pf_attach_free(pf_attach_result *r);
/* pf_attach_check: what the rules can tell without a host (podform validate): constraint keys
 * and addresses, boot options on declared Networks, with the default Host settings; places
 * nothing. */
void pf_attach_check(const pf_model *m, pf_diags *d);

/* The decision for interface i of vm, or NULL (not decided by the rules, or unresolvable). */
const pf_attachment *pf_attach_find(const pf_attach_result *r, const pf_vm *vm, const pf_iface *i);
/* The boot options network n serves, or NULL. */
const pf_bootp *pf_attach_bootp(const pf_attach_result *r, const pf_network *n);

/* Free addresses of s (spec section 2): the usable addresses of its CIDR (without the network
 * and broadcast addresses, but on IPv4 /31 and /32; IPv6: without the subnet-router anycast
 * address) minus its gateway, its reserved addresses and the constraint
 * addresses VM interfaces of m are given in it. Saturates at UINT64_MAX (large IPv6 subnets). */
uint64_t pf_subnet_free(const pf_model *m, const pf_subnet *s);

/* "a", "c1", "c2", "legacy", "constraints", "binding" (the JSON plan's names) */
const char *pf_attach_rule_name(pf_attach_rule r);
/* The rule as the text plan's label says it: "rules a, b" (a network qualifies under both),
 * "rule c1", ... */
const char *pf_attach_rule_label(pf_attach_rule r);

/* Where podform.yaml(5) describes the rules: a message that cites a rule names the section, as
 * the man page titles it (tests/cli.sh checks that the titles exist). */
#define PF_MAN_RESOLUTION "podform.yaml(5), RESOLUTION"
#define PF_MAN_POD_RULES PF_MAN_RESOLUTION ", The pod network"
/* "network maas", "bridge br0", "direct eno1 mode=bridge", "user slirp" (arena memory) */
const char *pf_attachment_target(pf_arena *a, const pf_attachment *x);

